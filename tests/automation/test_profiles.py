"""Drift from incremental profiles of the prediction log: each log file is profiled once,
and the verdicts agree with the exact computation on the same rows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

import loopml
from loopml.api import Client
from loopml.automation.profiles import monitor_from_profiles, profile_kinds
from loopml.data.demo import FLIGHTS_TIME, load_flights
from loopml.errors import MonitoringError
from loopml.monitoring import DriftConfig, compute_drift
from loopml.monitoring.profile import profile_error_bound
from loopml.settings import Settings
from loopml.store.predictions import PredictionRecord


@pytest.fixture(scope="module")
def flights() -> pd.DataFrame:
    return load_flights().rename(columns={FLIGHTS_TIME: "timestamp"})


@pytest.fixture
def client(tmp_path: Path, flights: pd.DataFrame) -> Client:
    client = loopml.connect(Settings.for_home(tmp_path / "home"))
    source = resources.files("loopml.demo").joinpath("flights_pipeline.yaml")
    with resources.as_file(source) as path:
        client.run_pipeline(path, inputs={"train": flights[flights["month"] == 1]})
    return client


def _log_file(client: Client, rows: pd.DataFrame, day: int) -> None:
    """One writer session, one day: one new Parquet file."""
    model = client.registry.load("flights", "champion")
    features = rows[list(model.schema.feature_names)]
    start = datetime(2026, 7, day, tzinfo=UTC)
    writer = client.open_prediction_writer()
    for i, record in enumerate(features.to_dict(orient="records")):
        writer.append(
            PredictionRecord(
                request_id=uuid.uuid4().hex,
                model="flights",
                version=1,
                route="champion",
                timestamp=start + timedelta(seconds=i),
                latency_ms=1.0,
                features={k: (None if pd.isna(v) else v) for k, v in record.items()},
                prediction=0,
                score=0.5,
            )
        )
    writer.close()


def test_each_file_is_profiled_once_and_drift_matches_the_exact_tests(
    client: Client, flights: pd.DataFrame
) -> None:
    july = flights[flights["month"] == 7].reset_index(drop=True)
    batches = [july.iloc[i * 2000 : (i + 1) * 2000] for i in range(4)]
    for day, batch in enumerate(batches[:3], start=1):
        _log_file(client, batch, day)

    first = monitor_from_profiles(client, "flights")
    assert (first.files, first.profiled, first.cached) == (3, 4, 0)  # 3 files + the reference
    again = monitor_from_profiles(client, "flights")
    assert (again.files, again.profiled, again.cached) == (3, 0, 4)  # nothing read twice
    _log_file(client, batches[3], 4)
    later = monitor_from_profiles(client, "flights")
    assert (later.files, later.profiled, later.cached) == (4, 1, 4)  # only the new file
    since = monitor_from_profiles(client, "flights", since=datetime(2026, 7, 3).date())
    assert since.files == 2 and since.drift.n_current == 4000

    model = client.registry.load("flights", "champion")
    reference = model.reference()
    kinds = profile_kinds(model.schema, reference)
    logged = pd.concat(batches).reset_index(drop=True)
    exact = compute_drift(reference[list(kinds)], logged[list(kinds)], model.schema)
    profiled = {c.name: c for c in later.drift.columns}
    assert later.drift.n_current == len(logged) == 8000
    for column in exact.columns:
        twin = profiled[column.name]
        assert twin.method == column.method, column.name
        assert twin.statistic == pytest.approx(column.statistic, abs=0.01), column.name
        if abs(column.statistic - column.threshold) > 0.02 and column.p_value is None:
            assert twin.drifted == column.drifted, column.name
    assert set(later.drift.drifted_columns) == set(exact.drifted_columns)
    assert later.to_dict()["files"] == 4

    import json

    from typer.testing import CliRunner

    from loopml.cli.main import app

    env = {**client.settings.as_env(), "LOOPML_ACTOR": "tester"}
    cli = CliRunner().invoke(app, ["monitor", "flights@champion", "--profiles", "--json"], env=env)
    assert cli.exit_code == 0, cli.output
    data = json.loads(cli.stdout[cli.stdout.index("{") :])
    assert (data["files"], data["profiled"], data["cached"]) == (4, 0, 5)
    assert set(data["drift"]["drifted_columns"]) == set(exact.drifted_columns)
    text = CliRunner().invoke(
        app, ["monitor", "flights@champion", "--profiles", "--since", "2026-07-04"], env=env
    )
    assert text.exit_code == 0, text.output
    assert "1 log files: 0 profiled now, 2 from the cache" in text.output


def test_no_log_and_evidently_preset_are_clear_errors(client: Client) -> None:
    with pytest.raises(MonitoringError, match="no predictions logged"):
        monitor_from_profiles(client, "flights")
    with pytest.raises(MonitoringError, match="loopml' preset"):
        monitor_from_profiles(client, "flights", config=DriftConfig.evidently())


def test_error_bound_is_exposed_for_ks() -> None:
    from loopml.monitoring.profile import profile_column

    a = profile_column(pd.Series(range(10_000), dtype=float), "numeric")
    assert profile_error_bound("ks", a, a) is not None
