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
"""

from loopml.registry.service import (
    LATEST,
    Registry,
    check_alias,
    check_model_name,
    parse_model_ref,
)

__all__ = ["LATEST", "Registry", "check_alias", "check_model_name", "parse_model_ref"]
