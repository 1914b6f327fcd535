"""The model registry: versions, aliases (champion, challenger, canary ...), rollback, audit.

:class:`Registry` is a thin domain service over a
:class:`loopml.store.RegistryStore` and an :class:`loopml.store.ArtifactStore`.
It copies model packages into artifact storage, names the acting person or
process in every audit event, checks model and alias names, and turns
references such as ``"champion"``, ``3``, ``"3"`` or ``"latest"`` into a
:class:`loopml.entities.ModelVersion`. Atomicity (version numbers, alias
moves with their audit event) is the store's job.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from loopml.entities import AuditEvent, ModelVersion, RegisteredModel
from loopml.errors import ModelPackageError, NotFoundError, StoreError
from loopml.store import ArtifactStore, MetadataStore
from loopml.store.audit_chain import model_target_prefix

if TYPE_CHECKING:
    from loopml.models import LoadedModel

__all__ = ["LATEST", "Registry", "check_alias", "check_model_name", "parse_model_ref"]

LATEST = "latest"
"""Reference to the highest existing version of a model; not allowed as an alias name."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}")


def check_model_name(name: str) -> str:
    """Return ``name`` if it can name a registered model.

    Allowed: 1-200 characters, letters, digits, ``_``, ``.``, ``-``, starting
    with a letter or digit (so ``NAME@ALIAS`` and URLs stay unambiguous).

    Raises
    ------
    StoreError
        If the name is not allowed; the message quotes it.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise StoreError(
            f"model name {name!r} is not allowed: use 1-200 letters, digits, '_', '.', '-', "
            "starting with a letter or digit"
        )
    return name


def check_alias(alias: str) -> str:
    """Return ``alias`` if it can name an alias: like a model name, but not all digits
    (that would read as a version number) and not ``latest``.

    Raises
    ------
    StoreError
        If the alias is not allowed; the message quotes it.
    """
    if not isinstance(alias, str) or not _NAME.fullmatch(alias) or alias.isdigit():
        raise StoreError(
            f"alias {alias!r} is not allowed: use 1-200 letters, digits, '_', '.', '-', "
            "starting with a letter or digit, and not only digits"
        )
    if alias.lower() == LATEST:
        raise StoreError(f"alias {alias!r} is reserved: 'latest' means the newest version")
    return alias


def parse_model_ref(text: str, *, default: str = LATEST) -> tuple[str, str]:
    """Split ``"NAME@REF"`` into ``(name, ref)``.

    ``REF`` is an alias, a version number or ``latest``; without ``@`` the
    reference is ``default``. An MLflow-style ``models:/`` prefix is accepted.

    Raises
    ------
    StoreError
        If the name or the reference is empty or malformed.

    Examples
    --------
    >>> parse_model_ref("flights@champion")
    ('flights', 'champion')
    >>> parse_model_ref("models:/flights@3")
    ('flights', '3')
    >>> parse_model_ref("flights")
    ('flights', 'latest')
    """
    body = text.strip().removeprefix("models:/")
    name, at, ref = body.partition("@")
    if at and not ref:
        raise StoreError(f"model reference {text!r} has nothing after '@'")
    ref = ref if at else default
    check_model_name(name)
    if not (ref.isdigit() or ref == LATEST):
        check_alias(ref)
    return name, ref


class Registry:
    """Register model packages, move aliases, roll back, load models.

    Parameters
    ----------
    store : MetadataStore
        Where versions, aliases and the audit chain live.
    artifacts : ArtifactStore
        Where model package folders are copied (under ``models/<name>/<uuid>/``).
    actor : str, keyword-only
        Who is recorded in audit events (a person, ``loop``, ``ci`` ...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from loopml.store import ArtifactStore, MemoryStore
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> package = root / "pkg"; package.mkdir(); _ = (package / "model.skops").write_bytes(b"x")
    >>> registry = Registry(MemoryStore(), ArtifactStore(str(root / "artifacts")), actor="alice")
    >>> registry.register("flights", package, reason="first model").version
    1
    >>> _ = registry.set_alias("flights", "champion", 1, reason="only candidate")
    >>> registry.resolve("flights", "champion").version
    1
    """

    def __init__(self, store: MetadataStore, artifacts: ArtifactStore, *, actor: str) -> None:
        self.store = store
        self.artifacts = artifacts
        self.actor = actor

    def register(
        self,
        name: str,
        package_dir: Path,
        *,
        run_id: str | None = None,
        description: str = "",
        reason: str = "",
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        """Copy the package folder into artifact storage and register it as the next version.

        The package is not opened here (see :meth:`load`); the folder must
        exist and hold at least one file.

        Raises
        ------
        ModelPackageError
            If ``package_dir`` is not a folder or is empty.
        NotFoundError
            If ``run_id`` names no run.
        StoreError
            If ``name`` is not an allowed model name.
        """
        check_model_name(name)
        folder = Path(package_dir)
        if not folder.is_dir():
            raise ModelPackageError(f"model package folder {str(folder)!r} does not exist")
        if not any(p.is_file() for p in folder.rglob("*")):
            raise ModelPackageError(f"model package folder {str(folder)!r} holds no files")
        source = self.artifacts.put_dir(folder, f"models/{name}/{uuid.uuid4().hex}")
        return self.store.create_model_version(
            name,
            source=source,
            run_id=run_id,
            description=description,
            tags=tags,
            actor=self.actor,
            reason=reason,
        )

    def resolve(self, name: str, ref: str | int) -> ModelVersion:
        """The version ``ref`` names: an alias, a version number (``3`` or ``"3"``) or ``"latest"``.

        Raises
        ------
        NotFoundError
            If the model, version or alias does not exist (or the model has no versions).
        """
        text = str(ref).strip()
        if isinstance(ref, int) or text.isdigit():
            return self.store.get_model_version(name, int(text))
        if text == LATEST:
            versions = self.store.list_model_versions(name)
            if not versions:
                raise NotFoundError(f"model {name!r} has no versions")
            return versions[-1]
        return self.store.get_model_version(name, self.store.get_alias(name, text).version)

    def set_alias(self, name: str, alias: str, version: int, *, reason: str) -> AuditEvent:
        """Point ``alias`` at ``version`` (atomic, audited); the old target is kept for rollback."""
        return self.store.set_alias(
            name, check_alias(alias), int(version), actor=self.actor, reason=reason
        )

    def rollback(self, name: str, alias: str, *, reason: str) -> AuditEvent:
        """Move ``alias`` back to the version it pointed at before its last move.

        Raises
        ------
        ConflictError
            If the alias has no earlier version.
        """
        return self.store.rollback_alias(name, alias, actor=self.actor, reason=reason)

    def delete_alias(self, name: str, alias: str, *, reason: str) -> AuditEvent:
        """Remove ``alias`` (audited)."""
        return self.store.delete_alias(name, alias, actor=self.actor, reason=reason)

    def delete_version(self, name: str, version: int, *, reason: str, force: bool = False) -> None:
        """Delete a version; refused while an alias points at it unless ``force``.

        The package files stay in artifact storage (other records may cite them).

        Raises
        ------
        ConflictError
            If an alias points at the version and ``force`` is false.
        """
        self.store.delete_model_version(
            name, int(version), actor=self.actor, reason=reason, force=force
        )

    def list_models(self) -> list[RegisteredModel]:
        """Every registered model, by name."""
        return self.store.list_registered_models()

    def list_versions(self, name: str) -> list[ModelVersion]:
        """The versions of ``name``, ascending."""
        return self.store.list_model_versions(name)

    def audit_events(self, name: str | None = None, *, limit: int = 1000) -> list[AuditEvent]:
        """Audit events (oldest first) of model ``name``, or of everything when ``None``."""
        prefix = None if name is None else model_target_prefix(name)
        return self.store.list_events(target_prefix=prefix, limit=limit)

    def load(self, name: str, ref: str | int, *, trust: bool = False) -> LoadedModel:
        """Resolve ``ref`` and load that version's package with :func:`loopml.models.load_model`.

        Parameters
        ----------
        trust : bool, keyword-only
            Passed on: allow pickle/joblib files (refused by default).

        Raises
        ------
        NotFoundError
            If the version does not exist or its package folder is gone.
        ModelPackageError
            If the package fails its integrity or format checks.
        """
        from loopml.models import load_model

        version = self.resolve(name, ref)
        return load_model(self.artifacts.get_dir(version.source), trust=trust)
