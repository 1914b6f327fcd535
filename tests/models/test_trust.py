from __future__ import annotations

import pytest

from loopml.models.trust import disallowed_types, is_allowed_type


@pytest.mark.parametrize(
    "name",
    [
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "numpy.random._pcg64.PCG64",
        "scipy.sparse._csr.csr_matrix",
        "collections.OrderedDict",
    ],
)
def test_allowed(name: str) -> None:
    assert is_allowed_type(name)


@pytest.mark.parametrize(
    "name",
    [
        "builtins.eval",
        "os.system",
        "collections.Counter",
        "numpyx.Thing",  # not numpy: whole dotted component compared
        "numpy.lib._npyio_impl.load",
        "numpy.f2py.compile",
        "sklearn.datasets.fetch_openml",
        "sklearn.utils._testing.TempMemmap",
    ],
)
def test_refused(name: str) -> None:
    assert not is_allowed_type(name)


def test_disallowed_types_sorted_unique() -> None:
    assert disallowed_types(["os.system", "numpy.ndarray", "os.system", "builtins.exec"]) == [
        "builtins.exec",
        "os.system",
    ]
