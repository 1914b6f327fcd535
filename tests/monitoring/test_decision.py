"""Test choice per preset, effect sizes and multiple-testing control of the dataset verdict."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from loopml.errors import ConfigurationError
from loopml.monitoring import DriftConfig, compute_drift
from loopml.monitoring.drift import adjust_p_values
from loopml.schema import infer_schema


def _frame(n: int, seed: int, *, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(100 + shift * 15, 15, n),  # continuous float
            "rating": rng.choice([1.0, 2.0, 3.0, 4.0], n),  # float with 4 distinct values
            "visits": rng.integers(0, 4, n),  # integer with 4 distinct values
            "flag": rng.integers(0, 2, n),  # integer 0/1
            "plan": rng.choice(["basic", "pro", "team"], n),
            "member": rng.choice([True, False], n),
        }
    )


@pytest.mark.parametrize(
    ("preset", "n", "expected"),
    [
        (
            "loopml",
            500,
            {
                "amount": "ks",
                "rating": "ks",  # loopml: a float column is always continuous
                "visits": "chi_square",
                "flag": "two_proportion_z",
                "plan": "chi_square",
                "member": "two_proportion_z",
            },
        ),
        (
            "evidently",
            500,
            {
                "amount": "ks",
                "rating": "chi_square",  # Evidently: any numeric column with <= 5 values
                "visits": "chi_square",
                "flag": "two_proportion_z",
                "plan": "chi_square",
                "member": "two_proportion_z",
            },
        ),
        (
            "loopml",
            5000,
            {
                "amount": "wasserstein",
                "rating": "wasserstein",
                "visits": "jensen_shannon",
                "flag": "jensen_shannon",
                "plan": "jensen_shannon",
                "member": "jensen_shannon",
            },
        ),
        (
            "evidently",
            5000,
            {
                "amount": "wasserstein",
                "rating": "jensen_shannon",
                "visits": "jensen_shannon",
                "flag": "jensen_shannon",
                "plan": "jensen_shannon",
                "member": "jensen_shannon",
            },
        ),
    ],
)
def test_choice_per_preset_follows_the_table(preset: str, n: int, expected: dict[str, str]) -> None:
    reference, current = _frame(n, 1), _frame(n, 2)
    report = compute_drift(
        reference, current, infer_schema(reference), config=DriftConfig(preset=preset)
    )
    assert {c.name: c.method for c in report.columns} == expected


def test_evidently_preset_counts_values_of_both_windows() -> None:
    reference = pd.DataFrame({"score": [1.0, 2.0] * 300})
    current = pd.DataFrame({"score": [1.0, 2.0, 3.0] * 200})  # a third value appears
    schema = infer_schema(reference)
    loopml = compute_drift(reference, current, schema).columns[0]
    evidently = compute_drift(reference, current, schema, config=DriftConfig.evidently()).columns[0]
    assert loopml.method == "ks"
    assert evidently.method == "chi_square"  # 3 values over both windows, not 2


def test_evidently_preset_matches_evidentlys_own_choice() -> None:
    registry = pytest.importorskip("evidently.legacy.calculations.stattests.registry")
    from evidently.legacy.core import ColumnType

    ours = {
        "ks": "ks",
        "chi_square": "chisquare",
        "two_proportion_z": "z",
        "wasserstein": "wasserstein",
        "jensen_shannon": "jensenshannon",
    }
    for n in (500, 5000):
        reference, current = _frame(n, 3), _frame(n, 4, shift=0.2)
        report = compute_drift(
            reference, current, infer_schema(reference), config=DriftConfig.evidently()
        )
        for column in report.columns:
            kind = (
                ColumnType.Categorical
                if column.name in ("plan", "member")
                else ColumnType.Numerical
            )
            theirs = registry._get_default_stattest(
                reference[column.name], current[column.name], kind
            )
            assert ours[column.method] == theirs.name, (n, column.name)


def test_every_p_value_comes_with_an_effect_size() -> None:
    reference, current = _frame(400, 5), _frame(400, 6, shift=0.5)
    report = compute_drift(reference, current, infer_schema(reference))
    for column in report.columns:
        assert column.p_value is not None
        assert column.effect_size is not None and column.effect_size_name is not None
        assert column.to_dict()["effect_size"] == column.effect_size
    amount = next(c for c in report.columns if c.name == "amount")
    assert amount.effect_size == pytest.approx(
        stats.ks_2samp(reference["amount"], current["amount"]).statistic
    )


def test_adjusted_p_values_by_hand() -> None:
    p = [0.01, 0.02, 0.03, 0.04, 0.20]
    assert adjust_p_values(p, "bonferroni") == pytest.approx([0.05, 0.10, 0.15, 0.20, 1.0])
    # BH: p_(i) * m / i, then the running minimum from the largest down
    assert adjust_p_values(p, "benjamini_hochberg") == pytest.approx([0.05] * 4 + [0.20])
    assert adjust_p_values(p, "none") == p
    assert adjust_p_values([], "bonferroni") == []


def test_bonferroni_removes_chance_findings_on_null_columns() -> None:
    rng = np.random.default_rng(7)
    n_cols = 40
    reference = pd.DataFrame({f"x{i}": rng.normal(size=300) for i in range(n_cols)})
    current = pd.DataFrame({f"x{i}": rng.normal(size=300) for i in range(n_cols)})
    current["x0"] += 1.0  # one real shift
    schema = infer_schema(reference)
    plain = compute_drift(reference, current, schema)
    corrected = compute_drift(
        reference, current, schema, config=DriftConfig(multiple_testing="bonferroni")
    )
    fdr = compute_drift(
        reference, current, schema, config=DriftConfig(multiple_testing="benjamini_hochberg")
    )
    assert "x0" in plain.drifted_columns and len(plain.drifted_columns) > 1  # chance findings
    assert corrected.drifted_columns == ["x0"]
    assert fdr.drifted_columns == ["x0"]
    x0 = corrected.columns[0]
    assert x0.p_value_adjusted == pytest.approx(min(1.0, (x0.p_value or 0.0) * n_cols))
    assert all(
        c.p_value_adjusted is not None and c.p_value_adjusted >= (c.p_value or 0.0)
        for c in corrected.columns
    )


def test_distances_are_not_corrected() -> None:
    reference, current = _frame(2000, 8), _frame(2000, 9, shift=1.0)
    config = DriftConfig(multiple_testing="bonferroni")
    report = compute_drift(reference, current, infer_schema(reference), config=config)
    amount = next(c for c in report.columns if c.name == "amount")
    assert amount.method == "wasserstein" and amount.p_value_adjusted is None
    assert amount.drifted


@pytest.mark.parametrize(("field", "value"), [("preset", "nannyml"), ("multiple_testing", "holm")])
def test_unknown_choices_name_the_field(field: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        DriftConfig(**{field: value})  # type: ignore[arg-type]
