"""Initial schema: experiments, runs, metrics, registry, aliases, audit chain, lineage, cache.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 12:27:06.325677
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("alias_history",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("model_name", sa.Text(), nullable=False),
    sa.Column("alias", sa.Text(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("moved_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_alias_history"))
    )
    op.create_index(op.f("ix_alias_history_model_name_alias_id"), "alias_history", ["model_name", "alias", "id"], unique=False)

    op.create_table("audit_events",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("time", sa.DateTime(), nullable=False),
    sa.Column("actor", sa.Text(), nullable=False),
    sa.Column("action", sa.Text(), nullable=False),
    sa.Column("target", sa.Text(), nullable=False),
    sa.Column("before", sa.JSON(), nullable=True),
    sa.Column("after", sa.JSON(), nullable=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("prev_hash", sa.String(length=64), nullable=False),
    sa.Column("hash", sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    sa.UniqueConstraint("hash", name=op.f("uq_audit_events_hash")),
    sa.UniqueConstraint("prev_hash", name=op.f("uq_audit_events_prev_hash"))
    )
    op.create_index(op.f("ix_audit_events_action"), "audit_events", ["action"], unique=False)
    op.create_index(op.f("ix_audit_events_target"), "audit_events", ["target"], unique=False)

    op.create_table("cache_entries",
    sa.Column("key", sa.Text(), nullable=False),
    sa.Column("step", sa.Text(), nullable=False),
    sa.Column("value", sa.JSON(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("key", name=op.f("pk_cache_entries"))
    )
    op.create_table("experiments",
    sa.Column("id", sa.String(length=32), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
    sa.UniqueConstraint("name", name=op.f("uq_experiments_name"))
    )
    op.create_table("lineage_edges",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("target", sa.Text(), nullable=False),
    sa.Column("relation", sa.Text(), nullable=False),
    sa.Column("time", sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_lineage_edges")),
    sa.UniqueConstraint("source", "target", "relation", name=op.f("uq_lineage_edges_source_target_relation"))
    )
    op.create_index(op.f("ix_lineage_edges_source"), "lineage_edges", ["source"], unique=False)
    op.create_index(op.f("ix_lineage_edges_target"), "lineage_edges", ["target"], unique=False)

    op.create_table("registered_models",
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("latest_version", sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint("name", name=op.f("pk_registered_models"))
    )
    op.create_table("runs",
    sa.Column("id", sa.String(length=32), nullable=False),
    sa.Column("experiment_id", sa.String(length=32), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("status", sa.String(length=16), nullable=False),
    sa.Column("start_time", sa.DateTime(), nullable=False),
    sa.Column("end_time", sa.DateTime(), nullable=True),
    sa.Column("git_commit", sa.Text(), nullable=True),
    sa.Column("environment", sa.JSON(), nullable=False),
    sa.Column("artifact_uri", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(["experiment_id"], ["experiments.id"], name=op.f("fk_runs_experiment_id_experiments"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_runs"))
    )
    op.create_index(op.f("ix_runs_experiment_id_start_time"), "runs", ["experiment_id", "start_time"], unique=False)

    op.create_table("metrics",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("run_id", sa.String(length=32), nullable=False),
    sa.Column("key", sa.Text(), nullable=False),
    sa.Column("value", sa.Float(), nullable=True),
    sa.Column("step", sa.BigInteger(), nullable=False),
    sa.Column("timestamp", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_metrics_run_id_runs"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics"))
    )
    op.create_index(op.f("ix_metrics_run_id_key_step"), "metrics", ["run_id", "key", "step"], unique=False)

    op.create_table("model_versions",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("model_name", sa.Text(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("run_id", sa.String(length=32), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
    sa.Column("tags", sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(["model_name"], ["registered_models.name"], name=op.f("fk_model_versions_model_name_registered_models"), ondelete="CASCADE"),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_model_versions_run_id_runs"), ondelete="SET NULL"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
    sa.UniqueConstraint("model_name", "version", name=op.f("uq_model_versions_model_name_version"))
    )
    op.create_table("params",
    sa.Column("run_id", sa.String(length=32), nullable=False),
    sa.Column("key", sa.Text(), nullable=False),
    sa.Column("value", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_params_run_id_runs"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_params"))
    )
    op.create_table("run_inputs",
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
    sa.Column("run_id", sa.String(length=32), nullable=False),
    sa.Column("fingerprint", sa.String(length=64), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("role", sa.Text(), nullable=False),
    sa.Column("n_rows", sa.BigInteger(), nullable=False),
    sa.Column("n_columns", sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_run_inputs_run_id_runs"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("id", name=op.f("pk_run_inputs")),
    sa.UniqueConstraint("run_id", "fingerprint", "name", "role", name=op.f("uq_run_inputs_run_id_fingerprint_name_role"))
    )
    op.create_table("tags",
    sa.Column("run_id", sa.String(length=32), nullable=False),
    sa.Column("key", sa.Text(), nullable=False),
    sa.Column("value", sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_tags_run_id_runs"), ondelete="CASCADE"),
    sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_tags"))
    )
    op.create_table("aliases",
    sa.Column("model_name", sa.Text(), nullable=False),
    sa.Column("alias", sa.Text(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("updated_at", sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(["model_name", "version"], ["model_versions.model_name", "model_versions.version"], name=op.f("fk_aliases_model_name_version_model_versions")),
    sa.PrimaryKeyConstraint("model_name", "alias", name=op.f("pk_aliases"))
    )


def downgrade() -> None:
    op.drop_table("aliases")
    op.drop_table("tags")
    op.drop_table("run_inputs")
    op.drop_table("params")
    op.drop_table("model_versions")
    op.drop_index(op.f("ix_metrics_run_id_key_step"), table_name="metrics")

    op.drop_table("metrics")
    op.drop_index(op.f("ix_runs_experiment_id_start_time"), table_name="runs")

    op.drop_table("runs")
    op.drop_table("registered_models")
    op.drop_index(op.f("ix_lineage_edges_target"), table_name="lineage_edges")
    op.drop_index(op.f("ix_lineage_edges_source"), table_name="lineage_edges")

    op.drop_table("lineage_edges")
    op.drop_table("experiments")
    op.drop_table("cache_entries")
    op.drop_index(op.f("ix_audit_events_target"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_action"), table_name="audit_events")

    op.drop_table("audit_events")
    op.drop_index(op.f("ix_alias_history_model_name_alias_id"), table_name="alias_history")

    op.drop_table("alias_history")
