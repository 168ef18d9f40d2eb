"""The common indicators (concord.core.indicators), and what an export suppresses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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
    assert ind.situations_by_area == {"north": 2} and ind.repeats_by_area == {"north": 1}
    assert compute([a, b, drill], [], [], [], drills=True).incidents == 4


def test_a_merged_signal_counts_once() -> None:
    a = with_signals("a", "north", [{}])
    gone = with_signals("a", "north", [{}]).model_copy(update={"id": "b", "merged_into": "a"})
    ind = compute([a, gone], [], [], [])
    assert ind.incidents == 1 and ind.situations_by_area == {"north": 1}


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
    assert (ind.done_on_time, ind.done_with_due) == (3, 4) and ind.on_time_share == 0.75


def test_small_counts_are_suppressed_in_the_export() -> None:
    assert [shown(n) for n in (0, 1, SMALL - 1, SMALL, 12)] == ["0", "<5", "<5", "5", "12"]
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
    assert exported[("incidents_by_category", "vandalism")] == "6"
    assert exported[("incidents", "all")] == "8"
    tasks = [make_task(id="t", created_at=T0)]
    timed = rows(compute([], tasks, [moved("t", "acknowledged", 5)], []))
    table = {(name, dim): value for name, dim, value in timed}
    assert table[("time_to_acknowledge_count", "police")] == "<5"
    assert table[("time_to_acknowledge_median_s", "police")] == ""  # one case: not shown
