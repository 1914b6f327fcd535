"""Artifact storage over fsspec: a local folder by default, object storage in production.

An :class:`ArtifactStore` maps relative destinations such as
``models/churn/<uuid>`` to URIs under one root (``/srv/loopml/artifacts``,
``file:///...``, ``s3://bucket/prefix``, ``memory://...``) and copies files and
folders in and out. URIs it returns carry their protocol (``file:///abs/...``
for local roots) so any process can open them again.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

import fsspec
from fsspec.implementations.local import LocalFileSystem

from loopml.errors import NotFoundError, StoreError

__all__ = ["ArtifactStore"]


def _clean_dest(dest: str) -> str:
    parts = PurePosixPath(dest.replace("\\", "/")).parts
    if not parts or dest.startswith("/") or any(p in ("..", ".") for p in parts):
        raise StoreError(
            f"artifact destination {dest!r} must be a relative path without '.' or '..' parts"
        )
    return "/".join(parts)


class ArtifactStore:
    """Files and folders under one fsspec root.

    Parameters
    ----------
    root : str
        A local folder or an fsspec URL. Local folders are created on first write.
    cache_dir : str or None, keyword-only
        Where :meth:`get_dir` downloads remote folders; a fresh temporary
        folder per call when ``None``. Unused for local roots.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = tempfile.mkdtemp()
    >>> store = ArtifactStore(root)
    >>> src = pathlib.Path(root, "note.txt"); _ = src.write_text("hi")
    >>> uri = store.put_file(src, "runs/r1/note.txt")
    >>> store.exists(uri)
    True
    """

    def __init__(self, root: str, *, cache_dir: str | None = None) -> None:
        self.root = root
        self.cache_dir = cache_dir

    def _fs(self, uri: str | None = None) -> tuple[fsspec.AbstractFileSystem, str]:
        target = self.root if uri is None else uri
        fs, path = fsspec.core.url_to_fs(os.path.expanduser(target) if "://" not in target else target)
        if isinstance(fs, LocalFileSystem):
            path = os.path.abspath(path)
        return fs, path

    def uri_for(self, dest: str) -> str:
        """The URI an artifact written to ``dest`` (relative to the root) has."""
        fs, root = self._fs()
        path = f"{root.rstrip('/')}/{_clean_dest(dest)}"
        return str(fs.unstrip_protocol(path))

    def put_file(self, local: str | os.PathLike[str], dest: str) -> str:
        """Copy the local file ``local`` to ``dest``; returns its URI.

        Raises
        ------
        NotFoundError
            If ``local`` is not a file.
        """
        source = Path(local)
        if not source.is_file():
            raise NotFoundError(f"artifact file {str(source)!r} does not exist")
        uri = self.uri_for(dest)
        fs, path = self._fs(uri)
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        fs.put_file(str(source), path)
        return uri

    def put_dir(self, local_dir: str | os.PathLike[str], dest: str) -> str:
        """Copy the local folder ``local_dir`` (recursively) to ``dest``; returns its URI.

        Files already at ``dest`` with the same relative names are overwritten.

        Raises
        ------
        NotFoundError
            If ``local_dir`` is not a folder.
        """
        source = Path(local_dir)
        if not source.is_dir():
            raise NotFoundError(f"artifact folder {str(source)!r} does not exist")
        uri = self.uri_for(dest)
        fs, path = self._fs(uri)
        fs.makedirs(path, exist_ok=True)
        for file in sorted(p for p in source.rglob("*") if p.is_file()):
            relative = file.relative_to(source).as_posix()
            target = f"{path}/{relative}"
            fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            fs.put_file(str(file), target)
        return uri

    def get_dir(self, uri: str) -> Path:
        """A local folder holding the artifact folder ``uri``.

        Local URIs are returned in place (do not modify them); remote ones are
        downloaded into ``cache_dir`` (or a new temporary folder).

        Raises
        ------
        NotFoundError
            If nothing exists at ``uri``.
        """
        fs, path = self._fs(uri)
        if not fs.isdir(path):
            raise NotFoundError(f"artifact folder {uri!r} does not exist")
        if isinstance(fs, LocalFileSystem):
            return Path(path)
        base = Path(self.cache_dir) if self.cache_dir else Path(tempfile.mkdtemp(prefix="loopml-"))
        local = base / PurePosixPath(path).name
        local.mkdir(parents=True, exist_ok=True)
        prefix = path.rstrip("/") + "/"
        for remote in fs.find(path):
            relative = remote[len(prefix) :] if remote.startswith(prefix) else remote.rsplit("/", 1)[-1]
            target = local / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(remote, str(target))
        return local

    def exists(self, uri: str) -> bool:
        """True if a file or folder exists at ``uri``."""
        fs, path = self._fs(uri)
        return bool(fs.exists(path))
