"""Experiments and runs in SQL: params, tags, bulk metric logging, dataset inputs."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from loopml.entities import DatasetInput, Experiment, Metric, Run, RunStatus
from loopml.errors import AlreadyExistsError, ConflictError, NotFoundError
from loopml.store.sql.convert import to_experiment, to_metric, to_run
from loopml.store.sql.rows import (
    ExperimentRow,
    MetricRow,
    ParamRow,
    RunInputRow,
    RunRow,
    TagRow,
)
from loopml.store.sql.transactions import Transactions, utcnow

__all__ = ["SqlRunStore"]


def _run_row(session: Session, run_id: str) -> RunRow:
    row = session.get(RunRow, run_id)
    if row is None:
        raise NotFoundError(f"run {run_id!r} not found")
    return row


def _require_run(session: Session, run_id: str) -> None:
    if session.scalar(select(RunRow.id).where(RunRow.id == run_id)) is None:
        raise NotFoundError(f"run {run_id!r} not found")


class SqlRunStore(Transactions):
    """Experiment and run half of :class:`loopml.store.sql.SqlStore`."""

    # ---------------------------------------------------------------- experiments
    def create_experiment(self, name: str) -> Experiment:
        def work(session: Session) -> Experiment:
            if session.scalar(select(ExperimentRow.id).where(ExperimentRow.name == name)):
                raise AlreadyExistsError(f"experiment {name!r} already exists")
            row = ExperimentRow(id=uuid.uuid4().hex, name=name, created_at=utcnow())
            session.add(row)
            session.flush()
            return to_experiment(row)

        return self._write(work, what=f"creating experiment {name!r}")

    def get_experiment(self, name: str) -> Experiment:
        row = self._read(lambda s: s.scalar(select(ExperimentRow).where(ExperimentRow.name == name)))
        if row is None:
            raise NotFoundError(f"experiment {name!r} not found")
        return to_experiment(row)

    def list_experiments(self) -> list[Experiment]:
        query = select(ExperimentRow).order_by(ExperimentRow.created_at, ExperimentRow.name)
        return self._read(lambda s: [to_experiment(r) for r in s.scalars(query)])

    # ----------------------------------------------------------------------- runs
    def create_run(
        self,
        experiment_id: str,
        *,
        name: str,
        start_time: datetime,
        git_commit: str | None,
        environment: dict[str, Any],
        artifact_uri: str,
    ) -> Run:
        def work(session: Session) -> Run:
            if session.get(ExperimentRow, experiment_id) is None:
                raise NotFoundError(f"experiment id {experiment_id!r} not found")
            row = RunRow(
                id=uuid.uuid4().hex,
                experiment_id=experiment_id,
                name=name,
                status=RunStatus.RUNNING.value,
                start_time=start_time,
                end_time=None,
                git_commit=git_commit,
                environment=environment,
                artifact_uri=artifact_uri,
                params=[],
                tags=[],
                inputs=[],
            )
            session.add(row)
            session.flush()
            return to_run(row)

        return self._write(work, what=f"creating run {name!r}")

    def get_run(self, run_id: str) -> Run:
        return self._read(lambda s: to_run(_run_row(s, run_id)))

    def list_runs(self, experiment_id: str | None = None, *, limit: int = 100) -> list[Run]:
        if limit <= 0:
            return []
        query = select(RunRow).order_by(RunRow.start_time.desc(), RunRow.id.desc()).limit(limit)
        if experiment_id is not None:
            query = query.where(RunRow.experiment_id == experiment_id)
        return self._read(lambda s: [to_run(r) for r in s.scalars(query)])

    def end_run(self, run_id: str, status: RunStatus, end_time: datetime) -> Run:
        final = RunStatus(status)
        if final is RunStatus.RUNNING:
            raise ConflictError(f"run {run_id!r} cannot end with status RUNNING")

        def work(session: Session) -> Run:
            row = _run_row(session, run_id)
            if row.status != RunStatus.RUNNING.value:
                raise ConflictError(f"run {run_id!r} already ended as {row.status}")
            row.status = final.value
            row.end_time = end_time
            session.flush()
            return to_run(row)

        return self._write(work, what=f"ending run {run_id!r}")

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        wanted = {str(k): str(v) for k, v in params.items()}

        def work(session: Session) -> None:
            _require_run(session, run_id)
            existing: dict[str, str] = {
                key: value
                for key, value in session.execute(
                    select(ParamRow.key, ParamRow.value).where(
                        ParamRow.run_id == run_id, ParamRow.key.in_(list(wanted))
                    )
                )
            }
            for key, value in wanted.items():
                if key in existing and existing[key] != value:
                    raise ConflictError(
                        f"param {key!r} of run {run_id!r} is already {existing[key]!r}; "
                        f"refusing to change it to {value!r}"
                    )
            new = [{"run_id": run_id, "key": k, "value": v} for k, v in wanted.items() if k not in existing]
            if new:
                session.execute(insert(ParamRow), new)

        self._write(work, what=f"logging params of run {run_id!r}")

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        rows = [{"run_id": run_id, "key": str(k), "value": str(v)} for k, v in tags.items()]

        def work(session: Session) -> None:
            _require_run(session, run_id)
            if not rows:
                return
            stmt = self._insert(session, TagRow)
            stmt = stmt.on_conflict_do_update(
                index_elements=["run_id", "key"], set_={"value": stmt.excluded.value}
            )
            session.execute(stmt, rows)

        self._write(work, what=f"setting tags of run {run_id!r}")

    def log_metrics(self, run_id: str, metrics: Sequence[Metric]) -> None:
        """Append ``metrics`` with one bulk ``INSERT`` in one transaction.

        NaN values are stored as SQL NULL (SQLite cannot store NaN) and read
        back as NaN; infinities are kept.
        """
        rows = [
            {
                "run_id": run_id,
                "key": m.key,
                "value": None if math.isnan(m.value) else float(m.value),
                "step": int(m.step),
                "timestamp": m.timestamp,
            }
            for m in metrics
        ]

        def work(session: Session) -> None:
            _require_run(session, run_id)
            if rows:
                session.execute(insert(MetricRow).execution_options(render_nulls=True), rows)

        self._write(work, what=f"logging {len(rows)} metric value(s) of run {run_id!r}")

    def get_metric_history(self, run_id: str, key: str | None = None) -> list[Metric]:
        query = (
            select(MetricRow)
            .where(MetricRow.run_id == run_id)
            .order_by(MetricRow.key, MetricRow.step, MetricRow.timestamp, MetricRow.id)
        )
        if key is not None:
            query = query.where(MetricRow.key == key)

        def work(session: Session) -> list[Metric]:
            _require_run(session, run_id)
            return [to_metric(r) for r in session.scalars(query)]

        return self._read(work)

    def log_inputs(self, run_id: str, inputs: Sequence[DatasetInput]) -> None:
        unique = list(dict.fromkeys(inputs))
        rows = [
            {
                "run_id": run_id,
                "fingerprint": i.fingerprint,
                "name": i.name,
                "role": i.role,
                "n_rows": int(i.n_rows),
                "n_columns": int(i.n_columns),
            }
            for i in unique
        ]

        def work(session: Session) -> None:
            _require_run(session, run_id)
            if rows:
                stmt = self._insert(session, RunInputRow).on_conflict_do_nothing(
                    index_elements=["run_id", "fingerprint", "name", "role"]
                )
                session.execute(stmt, rows)

        self._write(work, what=f"logging inputs of run {run_id!r}")
