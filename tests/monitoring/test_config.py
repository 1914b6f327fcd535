from __future__ import annotations

import pytest

from loopml.errors import ConfigurationError
from loopml.monitoring import DriftConfig


@pytest.mark.parametrize(
    ("kind", "n_reference", "method"),
    [
        ("numeric", 1000, "ks"),
        ("numeric", 1001, "wasserstein"),
        ("categorical", 1000, "chi_square"),
        ("categorical", 1001, "jensen_shannon"),
    ],
)
def test_automatic_choice_follows_the_table(kind: str, n_reference: int, method: str) -> None:
    assert DriftConfig().method_for("c", kind=kind, n_reference=n_reference) == method


def test_defaults_are_documented_values() -> None:
    config = DriftConfig()
    assert [
        config.threshold(m) for m in ("ks", "chi_square", "wasserstein", "jensen_shannon", "psi")
    ] == [
        0.05,
        0.05,
        0.1,
        0.1,
        0.2,
    ]
    assert (config.large_reference, config.drift_share) == (1000, 0.5)


def test_kind_wide_override() -> None:
    config = DriftConfig(numeric_method="psi", categorical_method="psi")
    assert config.method_for("a", kind="numeric", n_reference=10) == "psi"
    assert config.method_for("b", kind="categorical", n_reference=10_000) == "psi"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ks_threshold": 0.0}, "ks_threshold"),
        ({"drift_share": 1.5}, "drift_share"),
        ({"wasserstein_threshold": -1.0}, "wasserstein_threshold"),
        ({"n_bins": 1}, "n_bins"),
        ({"numeric_method": "chi_square"}, "numeric_method"),
        ({"column_methods": {"x": "t_test"}}, "column_methods"),
        ({"ks_threshold": "abc"}, "ks_threshold"),
        ({"min_samples": 2.5}, "min_samples"),
        ({"psi_smoothing": 0.0}, "psi_smoothing"),
    ],
)
def test_invalid_values_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError, match=field):
        DriftConfig(**kwargs)  # type: ignore[arg-type]


def test_column_methods_cannot_be_mutated_after_construction() -> None:
    source = {"x": "psi"}
    config = DriftConfig(column_methods=source)
    source["x"] = "ks"
    assert config.column_methods["x"] == "psi"
    with pytest.raises(TypeError):
        config.column_methods["x"] = "ks"  # type: ignore[index]
