from __future__ import annotations

import numpy as np

from loopml.stats.binning import bin_counts, quantile_edges, union_edges


def test_quantile_edges_are_reference_deciles_with_open_ends() -> None:
    edges = quantile_edges(np.arange(1.0, 101.0), n_bins=4)
    np.testing.assert_allclose(edges, [-np.inf, 25.75, 50.5, 75.25, np.inf])


def test_quantile_edges_merge_ties() -> None:
    edges = quantile_edges(np.array([0.0] * 90 + [1.0] * 10), n_bins=10)
    assert edges[0] == -np.inf and edges[-1] == np.inf
    assert np.all(np.diff(edges) > 0)


def test_constant_reference_gets_three_bins() -> None:
    edges = quantile_edges(np.array([5.0, 5.0]), n_bins=10)
    assert bin_counts(np.array([4.0, 5.0, 5.0, 6.0]), edges).tolist() == [1, 2, 1]


def test_union_edges_and_counts_include_infinities() -> None:
    edges = union_edges(np.array([0.0, 1.0]), np.array([2.0, np.inf]), n_bins=2)
    np.testing.assert_allclose(edges, [-np.inf, 1.0, np.inf])
    assert bin_counts(np.array([0.0, 1.0, 2.0, np.inf, -np.inf]), edges).tolist() == [2, 3]
