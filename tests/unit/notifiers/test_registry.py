"""The notifier registry (concord.notifiers.registry)."""

from __future__ import annotations

from typing import cast

import pytest

from concord.notifiers.base import Notifier
from concord.notifiers.registry import Registry


class Carrier:
    """A channel implementing the Notifier protocol, in memory (for the registry)."""

    def __init__(self, channel: str) -> None:
        self.channel = channel


def test_registry_refuses_two_notifiers_for_one_channel() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        Registry([cast(Notifier, Carrier("email")), cast(Notifier, Carrier("email"))])
