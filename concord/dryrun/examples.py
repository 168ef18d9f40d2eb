"""Check a set of playbooks as `concord playbooks validate` does: load, then run every
playbook's `examples:`.

Each example starts from an empty city (no history) and feeds its signals through the
real intake validation, correlation, decisions and planning, with the whole set of
playbooks (so inhibitions between playbooks show). Its outcome for the playbook is
what was decided about the playbook for the situation of the last signal: `fires`,
`suppressed` or `inhibited` (with the reason), or `no_match` (with the matcher's reason).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from concord.config.directory import Directory
from concord.config.yamlpos import Problem, YamlDoc, validation_problems
from concord.dryrun.flow import Simulator, Step
from concord.playbooks.conditions import parse_duration
from concord.playbooks.loader import PlaybookSet, load_playbooks
from concord.playbooks.schema import Example, Playbook
from concord.streams.signals import SignalIn

#: Default correlation window of examples (the worker's default too).
WINDOW = timedelta(hours=24)


def default_start(directory: Directory) -> datetime:
    """A Monday, noon, city time: examples that do not care about time get office hours."""
    return datetime(2026, 1, 5, 12, 0, tzinfo=ZoneInfo(directory.city.timezone))


def example_signal(
    raw: dict[str, Any], name: str, number: int, start: datetime, directory: Directory
) -> dict[str, Any]:
    """An example signal with the fields an example may leave out filled in."""
    data = dict(raw)
    after = data.pop("after", None)
    if "occurred_at" not in data:
        offset = parse_duration(after) if after is not None else timedelta(minutes=10 * number)
        data["occurred_at"] = (start + offset).isoformat()
    data.setdefault("id", f"example:{name}:{number}")
    data.setdefault("kind", "incident")
    data.setdefault("area", directory.areas[0].code)
    data.setdefault("source", {"type": "example", "name": "playbook example"})
    data.setdefault("summary", f"example signal {number}")
    return data


def _outcome(pb: Playbook, steps: list[Step], sim: Simulator) -> tuple[str, str, list[str]]:
    """(outcome, reason, task keys) of the playbook for the last signal's situation."""
    if not steps:
        return "no_match", "every signal was a duplicate", []
    last = steps[-1].situation
    decision = next((m for m in last.matches if m.playbook == pb.id), None)
    if decision is None:
        return "no_match", sim.matcher.explain(pb, last) or "", []
    if decision.status != "fired":
        return decision.status, decision.reason, []
    tasks = [t.task_key for s in steps if s.situation.id == last.id for t in s.tasks.get(pb.id, [])]
    return "fires", "", tasks


def run_example(
    pb: Playbook, index: int, ex: Example, doc: YamlDoc, sim: Simulator, directory: Directory
) -> list[Problem]:
    """Problems of one example (none when it passes); `sim` starts from an empty city."""
    sim.reset()
    start = ex.start or default_start(directory)
    steps: list[Step] = []
    for j, raw in enumerate(ex.signals):
        data = example_signal(raw, f"{pb.id}/{index}", j, start, directory)
        try:
            signal = SignalIn.model_validate(data)
        except ValidationError as exc:
            return validation_problems(doc, exc, prefix=("examples", index, "signals", j))
        if directory.area(signal.area) is None:
            return [doc.problem(("examples", index, "signals", j, "area"), "unknown area")]
        step = sim.feed(signal, signal.occurred_at)
        if step is not None:
            steps.append(step)
            if pb.id in step.errors:
                return [doc.problem(("examples", index), step.errors[pb.id])]
    outcome, reason, tasks = _outcome(pb, steps, sim)
    label = f"example {ex.name!r}"
    if outcome != ex.expect:
        why = f" ({reason})" if reason else ""
        return [
            doc.problem(
                ("examples", index, "expect"), f"{label}: {outcome}{why}, expected {ex.expect}"
            )
        ]
    if ex.tasks is not None and outcome == "fires" and sorted(tasks) != sorted(ex.tasks):
        return [
            doc.problem(
                ("examples", index, "tasks"), f"{label}: tasks {tasks}, expected {ex.tasks}"
            )
        ]
    return []


def check_playbooks(paths: Iterable[Path], directory: Directory) -> PlaybookSet:
    """Load the playbooks under `paths` and run every example (`concord playbooks
    validate`, and every reload of a running worker): the problems of both."""
    loaded = load_playbooks(paths, directory)
    # On the playbooks that loaded, so one bad file hides no failing example.
    loaded.problems.extend(run_examples(loaded, directory))
    return loaded


def run_examples(sets: PlaybookSet, directory: Directory) -> list[Problem]:
    """Problems of every example of every playbook of the set."""
    problems: list[Problem] = []
    sim = Simulator(sets, directory, WINDOW)  # one matcher for every example
    for pb in sets.playbooks:
        for i, ex in enumerate(pb.examples):
            problems.extend(run_example(pb, i, ex, sets.docs[pb.id], sim, directory))
    return problems
