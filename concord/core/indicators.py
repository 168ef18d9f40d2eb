"""The common indicators (ECCAR commitment 2), computed from Concord's own state.

- incidents (signals of kind `incident`) by category, bias, area and month;
- situations per area, and how many of them repeat (an area's second, third, ...);
- time to acknowledge and to complete per agency (median and 90th percentile), from
  the task's assignment to the liaison's acknowledgement or completion on the audit log;
- the share of tasks with a due time that were done by then;
- the panel's decision time (review opened to decided);
- reports from civil society (`public`, `ngo`) against those from agencies.

Drills are left out unless asked for. What is published (the page, its charts, the CSV
of `rows(...)`) shows every count through `shown`: `0`, `<5` for 1 to 4, otherwise its
band of five (`10-14`); durations and shares from fewer than `SMALL` cases are left
blank. So no victim can be singled out from a published table, nor from two of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from concord.streams.audit import AuditEntry
from concord.streams.reviews import ReviewRecord
from concord.streams.situations import Situation
from concord.streams.tasks import Task

#: Counts from 1 to SMALL - 1 are not exported.
SMALL = 5
#: Source types of civil society (ECCAR commitment 1): the public and NGOs.
CIVIL_SOCIETY = {"public", "ngo"}


@dataclass(frozen=True)
class Timing:
    """Durations in seconds: how many, the median and the 90th percentile."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, seconds: list[float]) -> Timing:
        """The median and 90th percentile of durations in seconds (None when there are none)."""
        if not seconds:
            return cls(0, None, None)
        ordered = sorted(seconds)
        return cls(len(ordered), _quantile(ordered, 0.5), _quantile(ordered, 0.9))


def _quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between closest ranks."""
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Indicators:
    """Every indicator, exact (the page for signed-in staff; `rows` for exports)."""

    incidents: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    by_bias: Counter[str] = field(default_factory=Counter)
    by_area: Counter[str] = field(default_factory=Counter)
    by_month: Counter[str] = field(default_factory=Counter)
    situations_by_area: Counter[str] = field(default_factory=Counter)
    repeats_by_area: Counter[str] = field(default_factory=Counter)
    to_acknowledge: dict[str, Timing] = field(default_factory=dict)
    to_complete: dict[str, Timing] = field(default_factory=dict)
    done_with_due: int = 0
    done_on_time: int = 0
    panel_decision: Timing = field(default_factory=lambda: Timing(0, None, None))
    reports: Counter[str] = field(default_factory=Counter)  # civil_society / agencies

    @property
    def on_time_share(self) -> float | None:
        """The share of tasks done before their due time, or None without any."""
        return self.done_on_time / self.done_with_due if self.done_with_due else None


def compute(
    situations: Iterable[Situation],
    tasks: Iterable[Task],
    audit: Iterable[AuditEntry],
    reviews: Iterable[ReviewRecord],
    drills: bool = False,
) -> Indicators:
    """The indicators of everything Concord holds (drills only when `drills`)."""
    out = Indicators()
    kept = [s for s in situations if drills or not s.exercise]
    _signals(out, kept)
    for s in sorted((s for s in kept if not s.merged_into), key=lambda s: s.opened_at):
        out.situations_by_area[s.area] += 1
        if out.situations_by_area[s.area] > 1:
            out.repeats_by_area[s.area] += 1
    wanted = [t for t in tasks if drills or not t.exercise]
    _tasks(out, wanted, audit)
    ids = {s.id for s in kept}
    decided = [
        (r.decided_at - r.opened_at).total_seconds()
        for r in reviews
        if r.situation_id in ids and r.decided_at is not None
    ]
    out.panel_decision = Timing.of(decided)
    return out


def _signals(out: Indicators, situations: list[Situation]) -> None:
    seen: set[str] = set()
    for s in situations:
        for ref in s.signals:
            if ref.id in seen:  # a merge keeps a signal in two snapshots
                continue
            seen.add(ref.id)
            out.reports["civil_society" if ref.source_type in CIVIL_SOCIETY else "agencies"] += 1
            if ref.kind.value != "incident":
                continue
            out.incidents += 1
            out.by_category[ref.category.value] += 1
            out.by_bias.update(b.value for b in ref.bias)
            out.by_area[ref.area or s.area] += 1
            out.by_month[ref.occurred_at.strftime("%Y-%m")] += 1


#: The task transitions the timings are measured between (`details["after"]` of the
#: audit entries `compute` reads; the read model passes only those).
TIMED: tuple[str, ...] = ("assigned", "acknowledged", "done")


def _tasks(out: Indicators, tasks: list[Task], audit: Iterable[AuditEntry]) -> None:
    by_id = {t.id: t for t in tasks}
    assigned: dict[str, datetime] = {}
    acked: dict[str, datetime] = {}
    done: dict[str, datetime] = {}
    for entry in audit:
        if entry.subject not in by_id or not entry.action.startswith("task."):
            continue
        after = entry.details.get("after")
        if after == "assigned":
            assigned.setdefault(entry.subject, entry.at)
        elif after == "acknowledged":
            acked.setdefault(entry.subject, entry.at)
        elif after == "done":
            done.setdefault(entry.subject, entry.at)
    ack_times: dict[str, list[float]] = {}
    done_times: dict[str, list[float]] = {}
    for task_id, task in by_id.items():
        start = assigned.get(task_id, task.created_at)
        if task_id in acked:
            ack_times.setdefault(task.agency, []).append((acked[task_id] - start).total_seconds())
        if task_id in done:
            done_times.setdefault(task.agency, []).append((done[task_id] - start).total_seconds())
            if task.due is not None:
                out.done_with_due += 1
                out.done_on_time += done[task_id] <= task.due
    out.to_acknowledge = {a: Timing.of(v) for a, v in sorted(ack_times.items())}
    out.to_complete = {a: Timing.of(v) for a, v in sorted(done_times.items())}


def shown(count: int) -> str:
    """A count as it is published, on the page, in the charts and in the CSV alike:
    `0`; `<5` for 1 to 4; otherwise its band of five (`5-9`, `10-14`, ...).

    Bands, not exact counts: with exact totals and breakdowns a small count comes back
    by subtraction (the total minus the categories shown, or the figures with drills
    minus those without). Every published figure being a band of width five or `<5`,
    no combination of them pins a count under five (tests/unit/core/test_indicators.py
    checks every table of a small city exhaustively)."""
    if count <= 0:
        return "0"
    if count < SMALL:
        return f"<{SMALL}"
    low = count // SMALL * SMALL
    return f"{low}-{low + SMALL - 1}"


def band(count: int) -> int | None:
    """The lower end of a count's band (None under `SMALL`, 0 for none): for charts."""
    if 0 < count < SMALL:
        return None
    return count // SMALL * SMALL


def _timing_rows(name: str, timings: dict[str, Timing]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for agency, t in timings.items():
        small = t.count < SMALL
        rows.append((f"{name}_count", agency, shown(t.count)))
        for label, value in (("median_s", t.median), ("p90_s", t.p90)):
            rows.append(
                (f"{name}_{label}", agency, "" if small or value is None else f"{value:.0f}")
            )
    return rows


def rows(ind: Indicators) -> list[tuple[str, str, str]]:
    """The export: (indicator, dimension, value), small counts suppressed."""
    out: list[tuple[str, str, str]] = [("incidents", "all", shown(ind.incidents))]
    for name, counter in (
        ("incidents_by_category", ind.by_category),
        ("incidents_by_bias", ind.by_bias),
        ("incidents_by_area", ind.by_area),
        ("incidents_by_month", ind.by_month),
        ("situations_by_area", ind.situations_by_area),
        ("repeat_situations_by_area", ind.repeats_by_area),
        ("reports_by_origin", ind.reports),
    ):
        out += [(name, key, shown(n)) for key, n in sorted(counter.items())]
    out += _timing_rows("time_to_acknowledge", ind.to_acknowledge)
    out += _timing_rows("time_to_complete", ind.to_complete)
    out.append(("tasks_done_with_due", "all", shown(ind.done_with_due)))
    share = ind.on_time_share
    small = ind.done_with_due < SMALL
    out.append(
        ("tasks_done_on_time_share", "all", "" if small or share is None else f"{share:.2f}")
    )
    t = ind.panel_decision
    out.append(("panel_decisions", "all", shown(t.count)))
    for label, value in (("median_s", t.median), ("p90_s", t.p90)):
        out.append(
            (
                f"panel_decision_{label}",
                "all",
                "" if t.count < SMALL or value is None else f"{value:.0f}",
            )
        )
    return out
