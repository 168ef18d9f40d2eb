"""Signals that join a situation under review, and when the panel is told of them. Pure.

Each signal that joins a situation while its review is pending makes the analysis the
panel votes on change (`concord.core.analysis.with_new_signals`). A burst of reports of
one incident (a video shared across the city) must not become a notice per report for
every member, nor a review record that grows with a copy of the analysis per report:

- The panel is told of a new version at once when it was last told at least the amend
  interval ago (`CONCORD_PANEL_AMEND_INTERVAL_SECONDS`, 300). Otherwise the notice is
  held back until that interval has passed (`tell_at`, a deadline the gate's timer acts
  on like the time limit), as Alertmanager's `group_interval` holds a group's updates.
- A version the panel has not been told of, that Concord made and nobody voted on (a
  member may vote on it from the review page, which shows the latest version) takes in
  the later signals itself: its `changes` list every signal that joined since the
  version the panel was told of. The record grows by one version per interval, not per
  signal. A member who voted on it does not make the others told: they hear of it when
  the interval ends (`behind`).
- Any notice that shows the panel the current version (`opened`, `amended`, `reminder`)
  makes it the one the panel was told of (`told`).

A record kept before `told` was (None) counts as told of its latest version: nothing of
it is folded, and the next join tells the panel at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from concord.streams.reviews import AnalysisVersion, ReviewRecord

#: How often, at most, the panel is told of signals that joined (Settings' default).
AMEND_INTERVAL = timedelta(minutes=5)

#: The notices that show the panel the analysis as it is now.
SHOWING = ("opened", "amended", "reminder")


def behind(record: ReviewRecord) -> bool:
    """Whether the panel has not been told of the latest version (a member who read it on
    the review page does not make the others told)."""
    return record.told is not None and record.version > record.told


def untold(record: ReviewRecord) -> bool:
    """Whether the latest version is one Concord made that the panel was not told of and
    that no member voted on: the one later signals fold into."""
    latest = record.current
    return (
        behind(record)
        and latest.by == "concord"
        and all(v.version != latest.version for v in record.votes)
    )


def take_in(record: ReviewRecord, version: AnalysisVersion) -> list[AnalysisVersion]:
    """The record's versions with `version` (the signals that joined) taken in: folded
    into an untold latest version, or added after it."""
    if not untold(record):
        return [*record.versions, version]
    latest = record.current
    folded = version.model_copy(
        update={"version": latest.version, "changes": [*latest.changes, *version.changes]}
    )
    return [*record.versions[:-1], folded]


def tell_when(record: ReviewRecord, now: datetime, interval: timedelta) -> datetime | None:
    """When the panel is told of a new version: None for now, else the end of the
    interval since it was last told."""
    if record.told_at is None or now >= record.told_at + interval:
        return None
    return record.told_at + interval


def told(record: ReviewRecord | None, kinds: Sequence[str], now: datetime) -> ReviewRecord | None:
    """The record after notices of `kinds` went out: a notice that shows the current
    version makes it the one the panel was told of."""
    if record is None or not any(k in SHOWING for k in kinds):
        return record
    return record.model_copy(update={"told": record.version, "told_at": now, "tell_at": None})
