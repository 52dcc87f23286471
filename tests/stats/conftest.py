"""Shared fixtures for the statistics tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

# Derandomised: CI must give the same answer every run (a property failure found locally is still reported).
settings.register_profile("stats", deadline=None, max_examples=60, derandomize=True)
settings.load_profile("stats")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)
