"""The common indicators (concord.core.indicators), and what an export suppresses."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from concord.core.indicators import SMALL, Timing, compute, rows, shown
from concord.streams.audit import AuditEntry
from concord.streams.situations import SignalRef, Situation
from tests.unit.factories import make_situation, make_task

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def with_signals(sid: str, area: str, refs: list[dict[str, object]], **kw: object) -> Situation:
    base = make_situation(area=area)
    signals = [
        SignalRef.model_validate(
            {
                "id": f"{sid}-{i}",
                "kind": "incident",
                "category": "hate_crime",
                "severity": 3,
                "occurred_at": T0,
                "source_type": "police",
                "bias": ["anti_roma"],
            }
            | r
        )
        for i, r in enumerate(refs)
    ]
    return base.model_copy(update={"id": sid, "signals": signals, **kw})


def moved(task_id: str, after: str, minutes: float) -> AuditEntry:
    return AuditEntry(
        at=T0 + timedelta(minutes=minutes),
        actor="x",
        action="task.x",
        subject=task_id,
        details={"after": after},
    )


def test_incidents_by_category_bias_area_month_and_origin() -> None:
    a = with_signals("a", "north", [{}, {"source_type": "public"}, {"kind": "tension"}])
    b = with_signals("b", "north", [{"category": "vandalism", "bias": [], "area": "south"}])
    drill = with_signals("d", "east", [{}], exercise=True)
    ind = compute([a, b, drill], [], [], [])
    assert ind.incidents == 3  # the tension signal is not an incident; the drill is left out
    assert ind.by_category == {"hate_crime": 2, "vandalism": 1}
    assert ind.by_bias == {"anti_roma": 2}
    assert ind.by_area == {"north": 2, "south": 1}  # where each signal happened
    assert ind.by_month == {"2026-03": 3}
    assert ind.reports == {"agencies": 3, "civil_society": 1}
    assert ind.situations_by_area == {"north": 2}
    assert ind.repeats_by_area == {"north": 1}
    assert compute([a, b, drill], [], [], [], drills=True).incidents == 4


def test_a_merged_signal_counts_once() -> None:
    a = with_signals("a", "north", [{}])
    gone = with_signals("a", "north", [{}]).model_copy(update={"id": "b", "merged_into": "a"})
    ind = compute([a, gone], [], [], [])
    assert ind.incidents == 1
    assert ind.situations_by_area == {"north": 1}


def test_times_per_agency_and_tasks_on_time() -> None:
    tasks = [make_task(id=f"t{i}", created_at=T0, due=T0 + timedelta(minutes=60)) for i in range(4)]
    audit = []
    for i, task in enumerate(tasks):
        audit += [moved(task.id, "assigned", 0), moved(task.id, "acknowledged", 10 * (i + 1))]
        audit.append(moved(task.id, "done", 30 if i < 3 else 90))
    ind = compute([], tasks, audit, [])
    ack = ind.to_acknowledge["police"]
    assert ack == Timing(4, 1500.0, 2220.0)  # 10, 20, 30, 40 minutes
    assert ind.to_complete["police"].median == 1800.0
    assert (ind.done_on_time, ind.done_with_due) == (3, 4)
    assert ind.on_time_share == 0.75


def test_small_counts_are_suppressed_in_the_export() -> None:
    assert [shown(n) for n in (0, 1, SMALL - 1, SMALL, 9, 12, 15)] == [
        "0",
        "<5",
        "<5",
        "5-9",
        "5-9",
        "10-14",
        "15-19",
    ]
    few = with_signals("a", "north", [{}, {}])
    many = with_signals("b", "south", [{"category": "vandalism"}] * 1)
    many = many.model_copy(
        update={
            "signals": [
                r.model_copy(update={"id": f"v{i}"}) for i, r in enumerate(many.signals * 6)
            ]
        }
    )
    exported = {(name, dim): value for name, dim, value in rows(compute([few, many], [], [], []))}
    assert exported[("incidents_by_category", "hate_crime")] == "<5"
    assert exported[("incidents_by_category", "vandalism")] == "5-9"
    assert exported[("incidents", "all")] == "5-9"
    tasks = [make_task(id="t", created_at=T0)]
    timed = rows(compute([], tasks, [moved("t", "acknowledged", 5)], []))
    table = {(name, dim): value for name, dim, value in timed}
    assert table[("time_to_acknowledge_count", "police")] == "<5"
    assert table[("time_to_acknowledge_median_s", "police")] == ""  # one case: not shown


def _pinned(publish: Any, universe: Iterable[tuple[int, ...]], interior: Any) -> list[Any]:
    """The secrets (name, value under SMALL) that every dataset publishing the same
    figures agrees on: what an attacker who reads all of them learns exactly."""
    classes: dict[tuple[str, ...], list[dict[str, int]]] = defaultdict(list)
    for data in universe:
        figures, secrets = publish(data)
        classes[figures].append(secrets | {"_interior": int(interior(data))})
    found = []
    for members in classes.values():
        values: dict[str, set[int]] = defaultdict(set)
        for m in members:
            for name, v in m.items():
                values[name].add(v)
        for m in members:
            if m["_interior"]:
                found += [
                    (n, v)
                    for n, v in m.items()
                    if n != "_interior" and 0 < v < SMALL and len(values[n]) == 1
                ]
    return found


def _one_release(cells: tuple[int, ...]) -> tuple[tuple[str, ...], dict[str, int]]:
    """A city's incidents as a 2x2x2 cube (category x area x month): the CSV publishes
    the total and each of the three breakdowns."""
    total = sum(cells)
    by = {
        "cat": sum(cells[i] for i in range(8) if i & 4),
        "area": sum(cells[i] for i in range(8) if i & 2),
        "month": sum(cells[i] for i in range(8) if i & 1),
    }
    secrets = {"total": total} | {
        f"{k}{b}": v if b else total - v for k, v in by.items() for b in (0, 1)
    }
    return tuple(shown(v) for v in secrets.values()), secrets


def _two_releases(data: tuple[int, ...]) -> tuple[tuple[str, ...], dict[str, int]]:
    """Real incidents (category x area margins) published once without drills and once
    with them: the figures with drills minus those without must give nothing away."""
    a, b, n, da, db, dn = data
    s, ds = a + b - n, da + db - dn
    real = {"total": a + b, "a": a, "b": b, "n": n, "s": s}
    drilled = [a + b + da + db, a + da, b + db, n + dn, s + ds]
    return tuple(shown(v) for v in [*real.values(), *drilled]), real


def test_no_combination_of_published_figures_recovers_a_small_count() -> None:
    """Exhaustively over small cities: whatever a count under five is, some other city
    publishes exactly the same figures with that count different. (Datasets at the edge
    of the enumerated range lack neighbours beyond it, so only interior ones are
    checked.)"""
    cube = itertools.product(range(4), repeat=8)
    assert _pinned(_one_release, cube, lambda c: max(c) <= 2) == []
    margins = (
        (a, b, n, da, db, dn)
        for a, b, n in itertools.product(range(12), repeat=3)
        if n <= a + b
        for da, db, dn in itertools.product(range(6), repeat=3)
        if dn <= da + db
    )
    assert _pinned(_two_releases, margins, lambda d: max(d[:2]) <= 6 and max(d[3:5]) <= 2) == []


def test_the_differencing_check_fails_on_exact_counts() -> None:
    """The check above can fail: with exact counts over five, a total minus the
    breakdown shown gives a small count away."""

    def exact(cells: tuple[int, ...]) -> tuple[tuple[str, ...], dict[str, int]]:
        _, secrets = _one_release(cells)
        return tuple(str(v) if v >= SMALL else shown(v) for v in secrets.values()), secrets

    cube = itertools.product(range(4), repeat=8)
    assert _pinned(exact, cube, lambda c: max(c) <= 2) != []
