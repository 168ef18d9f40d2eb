"""What the tests of the panel's gate share: the panel and the time a review opens."""

from __future__ import annotations

from datetime import UTC, datetime

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)
PANEL = ["ana", "koen", "lea"]
