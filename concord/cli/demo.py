"""`concord up --demo`: plays a short, scripted scenario through the running stack."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import faust
from rich.console import Console

from concord.cli import demo_reports
from concord.common.types import utcnow
from concord.core.correlation import situation_id
from concord.core.planning import task_id
from concord.streams.reviews import Amendment, ReviewEvent
from concord.streams.tasks import TaskEvent, TaskState
from concord.streams.votes import Decision, Vote
from concord.web.readmodel import ReadModel
from concord.worker.runtime import Flow

#: The playbook the landlord's third report fires.
PATTERN = "housing-discrimination-pattern"


def scenario() -> list[dict[str, Any] | str]:
    """A racist assault near a school, a rumour after it, a bad record, a drill, and a
    third report in three months against one landlord (the equality desk is on Teams,
    housing in a Matrix room)."""
    now = utcnow()

    def at(minutes: int) -> str:
        return (now - timedelta(minutes=minutes)).isoformat()

    return [
        {
            "id": "demo-1",
            "kind": "incident",
            "category": "hate_crime",
            "bias": ["anti_black"],
            "severity": 4,
            "occurred_at": at(40),
            "area": "north",
            "source": {"type": "ngo", "name": "SOS Racisme"},
            "summary": "A teenager was insulted and pushed at the tram stop by two adults; "
            "Amina Diallo called for help.",
            "persons": [
                {
                    "role": "victim",
                    "name": "Amina Diallo",
                    "contact": "+32 470 00 00 00",
                    "consent_to_share": True,
                }
            ],
            "language": "fr",
        },
        {
            "id": "demo-2",
            "kind": "tension",
            "category": "rumour",
            "bias": ["anti_black"],
            "severity": 2,
            "occurred_at": at(20),
            "area": "north",
            "source": {"type": "school", "name": "Athénée Nord"},
            "summary": "Pupils share a rumour that 'a gang' will retaliate tonight.",
        },
        "this is not JSON {",
        {
            "id": "demo-3",
            "kind": "incident",
            "category": "vandalism",
            "bias": ["antisemitic"],
            "severity": 3,
            "occurred_at": at(5),
            "area": "centre",
            "exercise": True,
            "source": {"type": "municipality", "name": "Drill team"},
            "summary": "DRILL: graffiti on the synagogue's wall.",
        },
        *landlord_reports(at),
    ]


def landlord_reports(at: Callable[[int], str]) -> list[dict[str, Any]]:
    """Three reports in three months against one landlord: the pattern playbook fires."""
    return [
        {
            "id": f"demo-housing-{i}",
            "kind": "incident",
            "category": "discrimination",
            "bias": ["anti_migrant"],
            "severity": 2 + (i == 3),
            "occurred_at": at(minutes),
            "area": "south",
            "tags": ["housing", "provider-acme"],
            "source": {"type": "ngo", "name": "Droit au logement"},
            "summary": "The agency refused to show the flat once it heard the caller's name.",
        }
        for i, minutes in ((1, 80 * 24 * 60), (2, 40 * 24 * 60), (3, 2))
    ]


async def panel_votes(flow: Flow, readmodel: ReadModel, console: Console) -> None:
    """The expert panel reviews the assault: Koen amends (a note), Ana approves."""
    sid = situation_id("demo-1", "north")
    for _ in range(100):  # the review opens with the assault, the rumour joins it
        review = readmodel.reviews.get(sid)
        if review is not None and len(review.situation.signals) > 1:
            break
        await asyncio.sleep(0.2)
    else:
        console.print("[red]demo: the assault's review did not open[/]")
        return
    note = "Retaliation rumours at the school: ask the school to watch closely."
    votes = [
        ("panel-practitioner", Decision.amend, "the school context matters", Amendment(note=note)),
        ("panel-researcher", Decision.approve, "", None),
    ]
    # The panel votes on the analysis as it is now (the rumour made a new version).
    for version, (member, decision, reason, amendment) in enumerate(votes, start=review.version):
        console.print(f"[blue]panel[/] {member} votes {decision} on version {version}")
        vote = Vote(member=member, decision=decision, version=version, reason=reason, via="web")
        event = ReviewEvent(situation_id=sid, kind="vote", vote=vote, amendment=amendment)
        await flow.topics.review_events.send(key=sid, value=event)
        await asyncio.sleep(1.5)


async def inquiry_done(flow: Flow, readmodel: ReadModel, console: Console) -> None:
    """The equality desk finishes its inquiry (on the task page): housing's task, which
    waited for it, goes to the housing department's Matrix room."""
    inquiry = task_id(situation_id("demo-housing-3", "south"), PATTERN, "equality-inquiry")
    for _ in range(100):
        task = readmodel.tasks.get(inquiry)
        if task is not None and task.state in (TaskState.assigned, TaskState.acknowledged):
            break
        await asyncio.sleep(0.2)
    else:
        console.print("[red]demo: the equality desk's inquiry was not delivered[/]")
        return
    console.print("[blue]liaison[/] equality-duty marks the inquiry done")
    done = TaskEvent(task_id=inquiry, action="done", actor="equality-duty", via="web")
    await flow.topics.task_events.send(key=inquiry, value=done)


async def play(flow: Flow, readmodel: ReadModel, console: Console, base: str) -> None:
    """The scenario, once the worker is ready; then the panel's votes."""
    while not flow.health.ready:
        await asyncio.sleep(0.2)
    console.rule("[bold]demo scenario")
    for item in scenario():
        raw = item.encode() if isinstance(item, str) else json.dumps(item).encode()
        key = item["id"] if isinstance(item, dict) else "broken"
        await flow.topics.signals_in.send(key=key, value=raw)
        await asyncio.sleep(1.5)
    await panel_votes(flow, readmodel, console)
    await inquiry_done(flow, readmodel, console)
    await demo_reports.send(base, console)
    await asyncio.sleep(3)
    console.rule(f"[bold]demo played — see {base}/outbox ; Ctrl-C stops everything")


def register(app: faust.App, flow: Flow, readmodel: ReadModel, console: Console, base: str) -> None:
    """Play the scenario once the worker is ready."""
    app.task(functools.partial(play, flow, readmodel, console, base))
