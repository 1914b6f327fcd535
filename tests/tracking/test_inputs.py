from __future__ import annotations

import pandas as pd

from loopml.data import fingerprint
from loopml.tracking import Tracker


def test_log_input_records_fingerprint_shape_and_lineage(tracker: Tracker) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    with tracker.start_run("flights") as run:
        dataset = run.log_input(frame, name="train-2013-01", role="train")
    assert dataset.fingerprint == fingerprint(frame)
    assert (dataset.n_rows, dataset.n_columns) == (3, 2)
    assert tracker.get_run(run.id).inputs == (dataset,)
    edges = tracker.store.edges_to(f"run:{run.id}")
    assert [(e.source, e.relation) for e in edges] == [(f"dataset:{dataset.fingerprint}", "input")]
