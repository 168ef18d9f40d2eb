"""A panel amendment turned into the next analysis version. Pure.

An amendment may change the severity (the tasks are planned again, so their texts say
the panel's severity), propose another playbook or withdraw one, drop tasks, add tasks
for any agency of the directory, and add a note. The API runs the same function before
it accepts the vote, so a bad amendment is refused with the field that is wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from concord.config.directory import Directory
from concord.core.gate import propose
from concord.core.planning import PlanningError, plan_or_refuse, task_id
from concord.playbooks.schema import Playbook
from concord.streams.reviews import AddedTask, Amendment, AnalysisVersion, Proposal, ReviewRecord
from concord.streams.situations import Situation
from concord.streams.tasks import Task

#: Tasks the panel adds belong to this pseudo-playbook.
PANEL_PLAYBOOK = "panel"

Lookup = Callable[[str], Playbook | None]


class AmendError(ValueError):
    """The amendment cannot be applied; `loc` names the field (for HTTP 422)."""

    def __init__(self, loc: str, msg: str) -> None:
        super().__init__(f"{loc}: {msg}")
        self.loc = loc
        self.msg = msg


def _replan(
    current: AnalysisVersion,
    amendment: Amendment,
    situation: Situation,
    playbooks: Lookup,
    directory: Directory,
    now: datetime,
    changes: list[str],
) -> list[Proposal]:
    """The proposals after playbooks were withdrawn or added (and, at another severity,
    the kept ones planned again)."""
    proposed = {p.playbook for p in current.proposals}
    for i, pid in enumerate(amendment.remove_playbooks):
        if pid not in proposed:
            raise AmendError(f"amendment.remove_playbooks.{i}", f"{pid} is not proposed")
        changes.append(f"{pid} withdrawn")
    proposals: list[Proposal] = []
    for p in current.proposals:
        if p.playbook in amendment.remove_playbooks:
            continue
        pb = playbooks(p.playbook) if situation.severity != current.severity else None
        tasks = _plan(situation, pb, directory, now, p.revision) if pb else p.tasks
        proposals.append(p.model_copy(update={"tasks": tasks}))
    for i, pid in enumerate(amendment.add_playbooks):
        pb = playbooks(pid)
        if pb is None:
            raise AmendError(f"amendment.add_playbooks.{i}", f"no playbook {pid!r} is loaded")
        if pid in proposed and pid not in amendment.remove_playbooks:
            raise AmendError(f"amendment.add_playbooks.{i}", f"{pid} is already proposed")
        tasks = _plan(situation, pb, directory, now, "")
        proposals.append(propose(pb, tasks, like=current.proposals[0]))
        changes.append(f"{pid} proposed")
    return proposals


def amend(
    record: ReviewRecord,
    amendment: Amendment,
    member: str,
    playbooks: Lookup,
    directory: Directory,
    now: datetime,
) -> AnalysisVersion:
    """The next version of `record`'s analysis after `member`'s amendment."""
    current = record.current
    version = current.version + 1
    severity = amendment.severity or current.severity
    situation = record.situation.model_copy(update={"severity": severity})
    changes: list[str] = []
    if severity != current.severity:
        changes.append(f"severity {current.severity} -> {severity}")

    proposals = _replan(current, amendment, situation, playbooks, directory, now, changes)
    proposals = _drop(proposals, amendment.drop_tasks, record.released, changes)
    added = [
        _added(record, t, i, version, member, directory, now)
        for i, t in enumerate(amendment.add_tasks)
    ]
    if added:
        changes += [f"task added for {t.agency}: {t.title}" for t in added]
        proposals = _with_panel_tasks(proposals, added, current.proposals[0])
    if not any(p.tasks for p in proposals):
        raise AmendError("amendment", "no task would be left: reject the analysis instead")
    notes = list(current.notes)
    if amendment.note.strip():
        notes.append(f"{member}: {amendment.note.strip()}")
        changes.append("note added")
    return AnalysisVersion(
        version=version,
        at=now,
        by=member,
        severity=severity,
        proposals=proposals,
        notes=notes,
        changes=changes,
    )


def _plan(
    situation: Situation, pb: Playbook, directory: Directory, now: datetime, revision: str
) -> list[Task]:
    try:
        return [
            t.model_copy(update={"awaiting": "panel"})
            for t in plan_or_refuse(situation, pb, directory, now, revision)
        ]
    except PlanningError as exc:
        raise AmendError("amendment", exc.reason) from exc


def _drop(
    proposals: list[Proposal], drop: list[str], released: list[str], changes: list[str]
) -> list[Proposal]:
    known = {t.id: t for p in proposals for t in p.tasks}
    keys: dict[str, list[str]] = {}
    for t in known.values():
        keys.setdefault(t.task_key, []).append(t.id)
    gone: set[str] = set()
    for i, name in enumerate(drop):
        ids = [name] if name in known else keys.get(name, [])
        if not ids:
            raise AmendError(f"amendment.drop_tasks.{i}", f"no proposed task {name!r}")
        sent = [x for x in ids if x in released]
        if sent:
            raise AmendError(f"amendment.drop_tasks.{i}", f"task {name} has already gone out")
        gone.update(ids)
        changes.append(f"task {name} dropped")
    return [
        p.model_copy(update={"tasks": [t for t in p.tasks if t.id not in gone]}) for p in proposals
    ]


def _added(
    record: ReviewRecord,
    spec: AddedTask,
    i: int,
    version: int,
    member: str,
    directory: Directory,
    now: datetime,
) -> Task:
    agency = directory.agency(spec.agency)
    if agency is None:
        raise AmendError(f"amendment.add_tasks.{i}.agency", f"unknown agency {spec.agency!r}")
    s = record.situation
    key = f"v{version}-{i + 1}"
    return Task(
        id=task_id(s.id, PANEL_PLAYBOOK, key),
        situation_id=s.id,
        playbook_id=PANEL_PLAYBOOK,
        playbook_version=version,
        task_key=key,
        agency=agency.id,
        assignee=agency.liaisons[0].id,
        title=spec.title,
        action=f"{spec.action}\n\n(Added by the expert panel, {member}.)",
        due=now + timedelta(hours=spec.due_hours) if spec.due_hours else None,
        urgent=spec.urgent,
        channels=list(agency.channels),
        area=s.area,
        category=s.categories[0],
        severity=s.severity,
        exercise=s.exercise,
        created_at=now,
        updated_at=now,
        awaiting="panel",
    )


def _with_panel_tasks(
    proposals: list[Proposal], tasks: list[Task], like: Proposal
) -> list[Proposal]:
    """Tasks the panel adds gather in one `panel` proposal across amendments."""
    panel = next((p for p in proposals if p.playbook == PANEL_PLAYBOOK), None)
    if panel is not None:
        merged = panel.model_copy(update={"tasks": [*panel.tasks, *tasks]})
        return [merged if p is panel else p for p in proposals]
    added = Proposal(
        playbook=PANEL_PLAYBOOK,
        version=tasks[0].playbook_version,
        title="Tasks added by the panel",
        quorum=like.quorum,
        time_limit=like.time_limit,
        at_limit=like.at_limit,
        tasks=tasks,
    )
    return [*proposals, added]
