"""Model cards: what a model version is for, what it learnt from, how it does, where it has been.

:func:`build_card` assembles a :class:`ModelCard` from what loopml recorded,
and :func:`card_markdown` writes it as Markdown (:mod:`loopml.ui.card` renders
the same card as a self-contained HTML page). Sections, after Mitchell et al.:

- *Intended use and data*: the version's ``intended_use`` / ``intended_data``
  tags, else its description, else the registered model's; otherwise
  ``"not stated"`` (loopml never invents one).
- *Training data*: fingerprints, names and shapes of the datasets the producing
  run read; the data contract (schema) from the package manifest.
- *Metrics*: the metrics recorded at training, and metrics overall and per
  category of every categorical feature (:mod:`loopml.automation.slices`)
  computed on the run's evaluation (test) split when the step cache still holds
  it with its recorded fingerprint, else on the reference data kept in the
  package (the training rows: optimistic). The card says which.
- *Drift and performance history*: every monitoring report of the version in
  the reports folder (``report-<model>-v<version>-*.json``), beside the
  deployment periods from the alias history.
- *Lineage* (:mod:`loopml.automation.lineage`), *limitations* (derived from
  the above, plus the ``limitations`` tag) and *approvals* (audit events of the
  model whose action contains ``approve`` or ``reject``).

References
----------
.. [1] M. Mitchell et al., "Model Cards for Model Reporting", FAT* 2019,
   https://arxiv.org/abs/1810.03993
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loopml.automation.lineage import (
    DatasetRef,
    VersionLineage,
    lineage_lines,
    mentions_version,
    version_lineage,
)
from loopml.automation.slices import SliceMetrics, slice_metrics
from loopml.schema import LogicalType
from loopml.store.audit_chain import model_target_prefix, version_target

__all__ = ["NOT_STATED", "Approval", "Evaluation", "ModelCard", "MonitoringPoint",
           "build_card", "card_markdown"]

NOT_STATED = "not stated"
"""What a card says where the registry holds no statement."""

_EVERY = 2**62


@dataclass(frozen=True)
class Evaluation:
    """Metrics overall and per slice, and the data they were computed on.

    ``source`` is ``"evaluation split"`` or ``"reference data"``; ``detail``
    names the run, rows and fingerprint.
    """

    source: str
    detail: str
    overall: SliceMetrics
    slices: tuple[SliceMetrics, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {"source": self.source, "detail": self.detail, "overall": self.overall.to_dict(),
                "slices": [s.to_dict() for s in self.slices]}


@dataclass(frozen=True)
class MonitoringPoint:
    """The headline of one monitoring report of the version."""

    created_at: str
    window_start: str | None
    window_end: str | None
    alias: str | None
    current_rows: int
    labelled_rows: int
    share_drifted: float | None
    dataset_drift: bool
    drifted_columns: tuple[str, ...]
    roc_auc: float | None
    estimated_roc_auc: float | None
    file: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {**self.__dict__, "drifted_columns": list(self.drifted_columns)}


@dataclass(frozen=True)
class Approval:
    """An approve or reject decision recorded in the audit log."""

    time: datetime
    actor: str
    action: str
    target: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {**self.__dict__, "time": self.time.isoformat()}


@dataclass(frozen=True)
class ModelCard:
    """Everything a model card shows; :meth:`to_dict` is the shape templates read."""

    model: str
    version: int
    generated_at: datetime
    intended_use: str
    intended_data: str
    registration_note: str
    task: dict[str, Any]
    estimator: str | None
    training_data: tuple[DatasetRef, ...]
    schema: tuple[dict[str, Any], ...]
    label: str | None
    metrics_at_training: dict[str, float | None]
    evaluation: Evaluation | None
    history: tuple[MonitoringPoint, ...]
    lineage: VersionLineage
    limitations: tuple[str, ...]
    approvals: tuple[Approval, ...]
    other_approvals: int
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        deployed = self.lineage.deployed_at
        return {
            "model": self.model, "version": self.version,
            "generated_at": self.generated_at.isoformat(),
            "intended_use": self.intended_use, "intended_data": self.intended_data,
            "registration_note": self.registration_note, "task": self.task,
            "estimator": self.estimator,
            "training_data": [d.to_dict() for d in self.training_data],
            "schema": list(self.schema), "label": self.label,
            "metrics_at_training": self.metrics_at_training,
            "evaluation": None if self.evaluation is None else self.evaluation.to_dict(),
            "deployed_at": None if deployed is None else deployed.isoformat(),
            "history": [p.to_dict() for p in self.history],
            "lineage": self.lineage.to_dict(), "lineage_lines": lineage_lines(self.lineage),
            "limitations": list(self.limitations),
            "approvals": [a.to_dict() for a in self.approvals],
            "other_approvals": self.other_approvals, "notes": list(self.notes),
        }


def _stated(*values: str | None) -> str:
    for value in values:
        if value and value.strip():
            return value.strip()
    return NOT_STATED


def _column(column: Any) -> dict[str, Any]:
    data: dict[str, Any] = column.to_dict()
    return {"name": str(data["name"]), "type": data["logical_type"], "nullable": data["nullable"],
            "minimum": data["minimum"], "maximum": data["maximum"],
            "categories": data["categories"]}


def _label(params: dict[str, str], frame: pd.DataFrame | None, features: tuple[str, ...]) -> str | None:
    for key in sorted(params):
        if key.endswith(".label") and (frame is None or params[key] in frame.columns):
            return params[key]
    if frame is not None:
        extra = [str(c) for c in frame.columns if c not in features]
        if len(extra) == 1:
            return extra[0]
    return None


def _evaluation_frame(
    store: Any, artifacts: Any, lineage: VersionLineage, notes: list[str]
) -> tuple[pd.DataFrame, str] | None:
    """The run's test split from the step cache, if still there with its recorded fingerprint."""
    from loopml.data import fingerprint
    from loopml.pipeline.cache import StepCache

    run = lineage.run
    if run is None:
        return None
    tests = [d for d in run.datasets if d.role == "test" and d.name.endswith(".test")]
    if not tests:
        notes.append(f"run {run.id} logged no test split")
        return None
    test = tests[0]
    step = test.name.removesuffix(".test")
    tags = store.get_run(run.id).tags
    key = tags.get(f"cache_key.{step}")
    outputs = None if key is None else StepCache(store, artifacts).get(key)
    if outputs is None or "test" not in outputs:
        why = "recorded no cache key" if key is None else "is no longer in the step cache"
        notes.append(f"the test split of run {run.id} {why}")
        return None
    frame: pd.DataFrame = outputs["test"]
    if fingerprint(frame) != test.fingerprint:
        notes.append(f"the cached test split of run {run.id} differs from the recorded one")
        return None
    return frame, (f"test split of run {run.id} ({len(frame)} rows, fingerprint "
                   f"{test.fingerprint[:16]})")


def _evaluate(
    loaded: Any, frame: pd.DataFrame, label: str | None, source: str, detail: str,
    notes: list[str], *, max_categories: int, min_rows: int,
) -> Evaluation | None:
    classes = loaded.classes
    if classes is None or len(classes) != 2:
        notes.append("per-slice metrics are computed for binary classifiers only")
        return None
    if label is None or label not in frame.columns:
        notes.append(f"the {source} holds no label column: no per-slice metrics")
        return None
    features = tuple(str(f) for f in loaded.schema.feature_names)
    rows = frame.dropna(subset=[label])
    score = loaded.positive_score(rows[list(features)])
    truth = (rows[label] == classes[1]).to_numpy()
    categorical = [c.name for c in loaded.schema.features
                   if c.logical_type is LogicalType.CATEGORICAL]
    overall, slices = slice_metrics(rows, truth, np.asarray(score), categorical,
                                    max_categories=max_categories, min_rows=min_rows)
    return Evaluation(source, detail, overall, tuple(slices))


def _history(reports_dir: Path | None, name: str, version: int) -> list[MonitoringPoint]:
    if reports_dir is None or not reports_dir.is_dir():
        return []
    points = []
    for path in sorted(reports_dir.glob(f"report-{name}-v{version}-*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if data.get("model") != name or data.get("version") != version:
            continue  # another model whose name starts the same way
        drift = data.get("drift") or {}
        performance = data.get("performance") or {}
        estimated = (data.get("estimated") or {}).get("roc_auc") or {}
        window = data.get("window") or {}
        points.append(MonitoringPoint(
            created_at=str(data.get("created_at")), window_start=window.get("start"),
            window_end=window.get("end"), alias=data.get("alias"),
            current_rows=int(data.get("current_rows") or 0),
            labelled_rows=int(data.get("labelled_rows") or 0),
            share_drifted=drift.get("share_drifted"),
            dataset_drift=bool(drift.get("dataset_drift")),
            drifted_columns=tuple(str(c) for c in drift.get("drifted_columns") or ()),
            roc_auc=performance.get("roc_auc"), estimated_roc_auc=estimated.get("value"),
            file=path.name,
        ))
    return sorted(points, key=lambda p: p.created_at)


def _concerns(event: Any, name: str, version: int) -> bool:
    """Whether a decision is about ``version``: its target, else the challenger it names
    (the loop's events also carry the champion's version), else any version it names."""
    if event.target == version_target(name, version):
        return True
    challengers = [state["challenger"] for state in (event.before, event.after)
                   if isinstance(state, dict) and isinstance(state.get("challenger"), int)]
    if challengers:
        return version in challengers
    return mentions_version(event.before, version) or mentions_version(event.after, version)


def _approvals(store: Any, name: str, version: int) -> tuple[list[Approval], int]:
    mine, others = [], 0
    for event in store.list_events(target_prefix=model_target_prefix(name), limit=_EVERY):
        action = event.action.lower()
        if "approve" not in action and "reject" not in action:
            continue
        if _concerns(event, name, version):
            mine.append(Approval(event.time, event.actor, event.action, event.target, event.reason))
        else:
            others += 1
    return mine, others


def build_card(
    store: Any,
    artifacts: Any,
    name: str,
    version: int,
    *,
    reports_dir: Path | None = None,
    max_categories: int = 20,
    min_slice_rows: int = 30,
) -> ModelCard:
    """Assemble the model card of ``name`` v``version`` from the registry, runs, reports and audit log.

    Parameters
    ----------
    store : MetadataStore
        Read only.
    artifacts : ArtifactStore
        The model package and the step cache (read only).
    name : str
        Registered model name.
    version : int
        Version number.
    reports_dir : Path, optional
        Folder of monitoring reports (``LOOPML_HOME/reports``).
    max_categories : int, default 20
        Categories shown per categorical feature; the rest are pooled.
    min_slice_rows : int, default 30
        Smallest slice that gets metrics.

    Returns
    -------
    ModelCard

    Raises
    ------
    NotFoundError
        If the model or version does not exist, or its package is gone.
    ModelPackageError
        If the package fails its integrity checks.

    Examples
    --------
    >>> import loopml
    >>> with loopml.connect() as client:  # doctest: +SKIP
    ...     card = build_card(client.store, client.artifacts, "flights", 1,
    ...                       reports_dir=client.settings.home / "reports")
    >>> card.intended_use, card.evaluation.source  # doctest: +SKIP
    ('not stated', 'evaluation split')
    """
    from loopml.models import load_model

    mv = store.get_model_version(name, version)
    lineage = version_lineage(store, name, version, artifacts=artifacts)
    loaded = load_model(artifacts.get_dir(mv.source))
    notes: list[str] = []
    params = {} if lineage.run is None else lineage.run.params
    features = tuple(str(f) for f in loaded.schema.feature_names)
    found = _evaluation_frame(store, artifacts, lineage, notes)
    if found is not None:
        frame, detail, source = found[0], found[1], "evaluation split"
    else:
        reference = loaded.reference()
        frame, source = reference, "reference data"
        detail = "" if reference is None else (
            f"reference data kept in the package ({len(reference)} training rows)"
        )
    label = _label(params, frame, features)
    evaluation = None if frame is None else _evaluate(
        loaded, frame, label, source, detail, notes,
        max_categories=max_categories, min_rows=min_slice_rows,
    )
    if frame is None:
        notes.append(f"{name} v{version} keeps no reference data and its evaluation split "
                     "is not available: no per-slice metrics")
    created = [e for e in store.list_events(target_prefix=version_target(name, version),
                                            action="model_version.create", limit=_EVERY)
               if e.target == version_target(name, version)]  # not version 10 for version 1
    history = _history(reports_dir, name, version)
    approvals, other_approvals = _approvals(store, name, version)
    model = store.get_registered_model(name)
    card = ModelCard(
        model=name,
        version=version,
        generated_at=datetime.now(UTC),
        intended_use=_stated(mv.tags.get("intended_use"), mv.description, model.description),
        intended_data=_stated(mv.tags.get("intended_data")),
        registration_note=created[0].reason if created else "",
        task=dict(loaded.manifest.task),
        estimator=next((v for k, v in sorted(params.items()) if k.endswith(".estimator")), None),
        training_data=() if lineage.run is None else lineage.run.datasets,
        schema=tuple(_column(c) for c in loaded.schema.columns),
        label=label,
        metrics_at_training=dict(loaded.manifest.metrics),
        evaluation=evaluation,
        history=tuple(history),
        lineage=lineage,
        limitations=(),
        approvals=tuple(approvals),
        other_approvals=other_approvals,
        notes=tuple(notes),
    )
    return replace(card, limitations=tuple(_limitations(card, mv.tags.get("limitations"), params)))


def _limitations(card: ModelCard, stated: str | None, params: dict[str, str]) -> list[str]:
    """Limitations that follow from the record, the user's own first."""
    items = [stated.strip()] if stated and stated.strip() else []
    evaluation = card.evaluation
    if evaluation is None:
        items.append("No metrics per slice: " + ("; ".join(card.notes) or "no data to score."))
    else:
        if evaluation.source == "reference data":
            items.append(
                "Per-slice metrics were computed on the training rows kept with the package, so "
                "they are optimistic: the evaluation split was not available."
            )
        by = next((v for k, v in params.items() if k.endswith(".by")), None)
        size = next((v for k, v in params.items() if k.endswith(".test_size")), None)
        if by and evaluation.source == "evaluation split":
            share = "" if size is None else f"{float(size):.0%} "
            items.append(
                f"Evaluated on the newest {share}of the training period by {by!r}: later data "
                "may behave differently (see the monitoring history)."
            )
        small = [s for s in evaluation.slices if s.finding and s.finding.startswith("fewer")]
        if small:
            shown = ", ".join(f"{s.feature}={s.category}" for s in small[:8])
            more = "" if len(small) <= 8 else f" and {len(small) - 8} more"
            items.append(f"{len(small)} slices are too small to judge ({shown}{more}).")
        overall = evaluation.overall.roc_auc
        if overall is not None:
            weak = sorted((s for s in evaluation.slices
                           if s.roc_auc is not None and s.roc_auc < overall - 0.05),
                          key=lambda s: s.roc_auc or 0.0)
            if weak:
                shown = ", ".join(f"{s.feature}={s.category} (ROC AUC {s.roc_auc:.3f}, {s.n} rows)"
                                  for s in weak[:5])
                items.append(f"Weaker than overall (ROC AUC {overall:.3f}) on: {shown}; "
                             "differences on a few dozen rows are noisy.")
    ranged = [c for c in card.schema if c["minimum"] is not None or c["categories"]]
    if ranged:
        items.append(
            "Inputs outside the ranges and categories of the data contract (see the schema) "
            "are still scored, but the model never saw such values."
        )
    if not card.history:
        items.append("No monitoring report of this version yet: its behaviour on live traffic "
                     "is unknown.")
    else:
        latest = card.history[-1]
        if latest.dataset_drift:
            items.append(f"The latest monitoring report ({_stamp(latest.created_at)}) found data "
                         f"drift in {', '.join(latest.drifted_columns) or 'several columns'}.")
        realised = [p for p in card.history if p.roc_auc is not None]
        trained = card.metrics_at_training.get("roc_auc")
        if not realised:
            items.append("No realised performance on labelled live traffic yet.")
        elif trained is not None and realised[-1].roc_auc is not None and (
            realised[-1].roc_auc < trained - 0.02
        ):
            items.append(
                f"Realised ROC AUC on live traffic ({realised[-1].roc_auc:.3f} on "
                f"{realised[-1].labelled_rows} labelled rows, report of "
                f"{_stamp(realised[-1].created_at)}) is below the {trained:.3f} measured at "
                "training."
            )
    items.append("loopml does not assess fairness, robustness or causal validity; the slices "
                 "cover the categorical features only.")
    return items


def _stamp(text: str | None) -> str:
    """``2024-07-01T00:24:00+00:00`` -> ``2024-07-01 00:24``."""
    return "?" if not text else text[:16].replace("T", " ")


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _contract(column: dict[str, Any]) -> str:
    if column["categories"]:
        shown = ", ".join(column["categories"][:8])
        more = len(column["categories"]) - 8
        return f"{len(column['categories'])} categories: {shown}" + (f" … (+{more})" if more > 0 else "")
    if column["minimum"] is not None or column["maximum"] is not None:
        return f"{column['minimum']} .. {column['maximum']}"
    return ""


def card_markdown(card: ModelCard) -> str:
    """The card as GitHub-flavoured Markdown.

    Examples
    --------
    >>> card_markdown(card).splitlines()[0]  # doctest: +SKIP
    '# Model card: flights v2'
    """
    lineage = card.lineage
    run = lineage.run
    out = [f"# Model card: {card.model} v{card.version}", "",
           (f"_Generated by loopml on {card.generated_at:%Y-%m-%d %H:%M} UTC from the registry, "
           "the run that produced the version, its monitoring reports and the audit log._"), "",
           "## Model details", ""]
    classes = card.task.get("classes")
    out += [f"- Registered: {lineage.created_at:%Y-%m-%d %H:%M:%S} UTC, package `{lineage.source}`",
            f"- Aliases now: {', '.join(lineage.aliases) or 'none'}",
            f"- Task: {card.task.get('type', 'other')}"
            + ("" if classes is None else f", classes {classes} (positive: {classes[-1]!r})"),
            f"- Estimator: {card.estimator or NOT_STATED}; label: {card.label or NOT_STATED}",
            f"- Produced by run: {'none (registered by hand)' if run is None else run.id}", "",
            "## Intended use", "",
            f"- Intended use: {card.intended_use}",
            f"- Intended data: {card.intended_data}"]
    if card.registration_note:
        out.append(f"- Registration note: {card.registration_note}")
    out += ["", "## Training data", ""]
    if card.training_data:
        out += _table(["role", "name", "fingerprint (SHA-256)", "rows", "columns"],
                      [[d.role, d.name, f"`{d.fingerprint}`", d.n_rows, d.n_columns]
                       for d in card.training_data])
    else:
        out += [f"Training data: {NOT_STATED} (no run recorded the datasets).", ""]
    out += ["### Schema (data contract)", ""]
    out += _table(["column", "type", "nullable", "range / categories"],
                  [[c["name"], c["type"], "yes" if c["nullable"] else "no", _contract(c)]
                   for c in card.schema])
    out += ["## Metrics", "", "At training (evaluation split, recorded in the package):", ""]
    out += _table(["metric", "value"], [[k, v] for k, v in sorted(card.metrics_at_training.items())])
    evaluation = card.evaluation
    if evaluation is not None:
        out += [f"### Overall and per slice — computed on the {evaluation.source}", "",
                f"{evaluation.detail}. Accuracy at a 0.5 threshold.", ""]
        rows = [[s.feature, s.category, s.n, s.positive_rate, s.roc_auc, s.accuracy, s.log_loss,
                 s.finding or ""] for s in (evaluation.overall, *evaluation.slices)]
        out += _table(["feature", "category", "rows", "positive rate", "ROC AUC", "accuracy",
                       "log loss", "note"], rows)
    out += ["## Drift and performance since deployment", ""]
    deployed = lineage.deployed_at
    out.append(f"First deployed: {'never' if deployed is None else f'{deployed:%Y-%m-%d %H:%M} UTC'}.")
    out.append("")
    if card.history:
        out += _table(["report", "alias", "window", "rows", "labelled", "share drifted",
                       "drifted columns", "ROC AUC realised", "ROC AUC estimated"],
                      [[_stamp(p.created_at), p.alias, (f"{_stamp(p.window_start)} → "
                        f"{_stamp(p.window_end)}"), p.current_rows, p.labelled_rows,
                        p.share_drifted, ", ".join(p.drifted_columns), p.roc_auc,
                        p.estimated_roc_auc] for p in card.history])
    else:
        out += ["No monitoring report of this version.", ""]
    out += ["## Lineage", "", "```text", *lineage_lines(lineage), "```", ""]
    if lineage.alias_history:
        out += _table(["time", "actor", "action", "alias", "from", "to", "reason"],
                      [[f"{m.time:%Y-%m-%d %H:%M:%S}", m.actor, m.action, m.alias,
                        m.from_version, m.to_version, m.reason] for m in lineage.alias_history])
    out += ["## Limitations", "", *[f"- {item}" for item in card.limitations], "",
            "## Approvals", ""]
    if card.approvals:
        out += _table(["time", "actor", "decision", "target", "reason"],
                      [[f"{a.time:%Y-%m-%d %H:%M:%S}", a.actor, a.action, a.target, a.reason]
                       for a in card.approvals])
    else:
        out += ["No approval or rejection of this version is recorded.", ""]
    if card.other_approvals:
        out += [(f"{card.other_approvals} approval decision(s) of this model concern other "
                "versions."), ""]
    return "\n".join(out).rstrip() + "\n"
