"""Shared fixtures for the drift statistics tests."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator so sampled tests are reproducible."""
    return np.random.default_rng(20240501)
