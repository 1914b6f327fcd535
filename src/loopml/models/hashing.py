"""SHA-256 of the files of a package folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["hash_folder", "sha256_file"]

_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Return the SHA-256 (hex) of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def hash_folder(folder: Path, *, exclude: frozenset[str] = frozenset()) -> dict[str, str]:
    """Hash every regular file under ``folder``.

    Parameters
    ----------
    folder : pathlib.Path
        The package folder.
    exclude : frozenset of str
        Relative POSIX paths to leave out (the manifest itself).

    Returns
    -------
    dict of str to str
        Relative POSIX path -> SHA-256 hex, sorted by path.
    """
    hashes: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and relative not in exclude:
            hashes[relative] = sha256_file(path)
    return hashes
