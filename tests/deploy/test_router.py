"""Deterministic canary split by request id."""

from __future__ import annotations

import hashlib

import pytest

from loopml.deploy import canary_share, route_for


def test_share_is_the_documented_hash() -> None:
    digest = hashlib.sha256(b"prod\x00req-42").digest()
    assert canary_share("req-42", salt="prod") == int.from_bytes(digest[:8], "big") / 2**64


def test_same_id_same_route() -> None:
    routes = {route_for("abc", 30.0, salt="d") for _ in range(10)}
    assert len(routes) == 1


@pytest.mark.parametrize("weight", [1.0, 10.0, 50.0, 90.0])
def test_share_of_canary_matches_weight(weight: float) -> None:
    n = 20_000
    hits = sum(route_for(f"request-{i}", weight, salt="prod") == "canary" for i in range(n))
    # binomial standard error at n=20,000 is at most 0.35 %; allow 4 standard errors
    assert hits / n == pytest.approx(weight / 100.0, abs=0.014)


def test_no_or_zero_weight_is_all_champion() -> None:
    assert {route_for(str(i), None) for i in range(100)} == {"champion"}
    assert {route_for(str(i), 0.0) for i in range(100)} == {"champion"}


def test_salt_decorrelates_deployments() -> None:
    a = [route_for(f"r{i}", 50.0, salt="a") for i in range(2000)]
    b = [route_for(f"r{i}", 50.0, salt="b") for i in range(2000)]
    same = sum(x == y for x, y in zip(a, b)) / 2000
    assert 0.45 < same < 0.55
