"""The model registry: numbered versions, aliases, rollback, audit, loading.

:class:`Registry`
    ``register``, ``resolve``, ``set_alias``, ``rollback``, ``delete_alias``,
    ``delete_version``, ``list_models``, ``list_versions``, ``audit_events``, ``load``.
:func:`parse_model_ref`
    ``"flights@champion"`` -> ``("flights", "champion")``.
:func:`check_model_name`, :func:`check_alias`
    The naming rules for models and aliases.
:data:`LATEST`
    The reference to the newest version.
:class:`TokenService` (:mod:`loopml.registry.tokens`)
    Bearer tokens of the model server: ``create``, ``list``, ``revoke``,
    ``authenticate`` (argon2-hashed, with a short in-memory cache).
"""

from loopml.registry.service import (
    LATEST,
    Registry,
    check_alias,
    check_model_name,
    parse_model_ref,
)
from loopml.registry.tokens import TokenService

__all__ = [
    "LATEST",
    "Registry",
    "TokenService",
    "check_alias",
    "check_model_name",
    "parse_model_ref",
]
