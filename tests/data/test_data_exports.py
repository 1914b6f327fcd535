from __future__ import annotations

import loopml.data


def test_public_names_are_pinned() -> None:
    assert sorted(loopml.data.__all__) == [
        "FLIGHTS_FEATURES",
        "FLIGHTS_LABEL",
        "FLIGHTS_TIME",
        "describe_flights",
        "fingerprint",
        "load_flights",
    ]
