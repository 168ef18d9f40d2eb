"""Fixtures of the unit tests (the factories are `tests.unit.factories`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from concord.config.directory import Directory
from concord.streams.situations import Situation
from tests.unit.factories import example_directory, make_situation


@pytest.fixture(scope="session")
def directory() -> Directory:
    """The example city's directory (`directory.yml`)."""
    return example_directory()


@pytest.fixture
def situation_factory() -> Callable[..., Situation]:
    return make_situation
