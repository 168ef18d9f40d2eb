"""Fixtures of the core tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from concord.core.decisions import Rules
from concord.playbooks.matcher import Matcher
from tests.unit.factories import DIRECTORY


@pytest.fixture(scope="module")
def rules() -> Rules:
    """Correlation rules with no playbook and a 24 h window."""
    return Rules(Matcher([], DIRECTORY), timedelta(hours=24))
