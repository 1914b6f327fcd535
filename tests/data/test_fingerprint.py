from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from loopml.data import fingerprint
from loopml.errors import DataError


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": [1, 2, 3],
            "f": [0.5, np.nan, 2.0],
            "c": pd.Categorical(["a", "b", "a"]),
            "s": ["u", None, "w"],
            "t": pd.to_datetime(["2013-01-01", "2013-01-02", "2013-01-03"]).tz_localize("UTC"),
        }
    )


def test_same_content_same_hash_regardless_of_index_and_copies() -> None:
    frame = _frame()
    digest = fingerprint(frame)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert fingerprint(frame.copy(deep=True)) == digest
    assert fingerprint(frame.set_axis([10, 11, 12])) == digest
    rebuilt = pd.concat([frame.iloc[:1], frame.iloc[1:]])  # two chunks in Arrow
    assert fingerprint(rebuilt) == digest


def test_known_value_is_stable_across_processes() -> None:
    # Pinned: a change here means every stored dataset fingerprint changes.
    frame = pd.DataFrame({"x": np.array([1, 2], dtype=np.int64), "y": [0.5, 1.5]})
    assert fingerprint(frame) == fingerprint(pd.DataFrame({"x": [1, 2], "y": [0.5, 1.5]}))
    assert fingerprint(frame) == "fcbaa735b2439790c7f0023eea7faaa7717302d24fa0b4829c1de58fc787676b"


@pytest.mark.parametrize(
    "change",
    [
        lambda f: f.assign(x=[1, 2, 4]),
        lambda f: f.assign(f=[0.5, 0.0, 2.0]),
        lambda f: f.assign(f=[0.5, np.nan, 2.0000001]),
        lambda f: f.assign(s=["u", "v", "w"]),
        lambda f: f.rename(columns={"x": "x2"}),
        lambda f: f.astype({"x": "int32"}),
        lambda f: f.astype({"x": "float64"}),
        lambda f: f.astype({"c": "str"}),
        lambda f: f.assign(t=f["t"].dt.tz_convert("America/New_York")),
        lambda f: f[["f", "x", "c", "s", "t"]],
        lambda f: f.iloc[::-1],
        lambda f: f.iloc[:2],
        lambda f: f.drop(columns="s"),
    ],
)
def test_any_change_changes_the_hash(change) -> None:  # type: ignore[no-untyped-def]
    frame = _frame()
    assert fingerprint(change(frame)) != fingerprint(frame)


def test_integer_label_differs_from_its_text() -> None:
    assert fingerprint(pd.DataFrame({0: [1]})) != fingerprint(pd.DataFrame({"0": [1]}))


def test_string_storage_does_not_matter_but_category_does() -> None:
    as_str = pd.DataFrame({"s": pd.Series(["a", None], dtype="str")})
    as_object = pd.DataFrame({"s": pd.Series(["a", None], dtype=object)})
    assert fingerprint(as_str) == fingerprint(as_object)
    assert fingerprint(as_str) != fingerprint(as_str.astype("category"))


def test_empty_frames() -> None:
    assert fingerprint(pd.DataFrame()) == fingerprint(pd.DataFrame())
    no_rows = pd.DataFrame({"x": pd.Series([], dtype="int64")})
    assert fingerprint(no_rows) != fingerprint(pd.DataFrame())


def test_refuses_what_it_cannot_fingerprint() -> None:
    with pytest.raises(DataError, match="DataFrame"):
        fingerprint([1, 2])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="repeated column"):
        fingerprint(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(DataError, match="Arrow"):
        fingerprint(pd.DataFrame({"m": pd.Series(["a", 1.5], dtype=object)}))
