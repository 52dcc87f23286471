"""Shared fixtures for the statistics tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("stats", deadline=None, max_examples=60)
settings.load_profile("stats")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)
