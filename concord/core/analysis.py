"""The situation analysis the expert panel reviews. Pure.

Drafted when a playbook that needs review fires: what happened, the signals with their
sources and how far each source is trusted, the tension and its trend in the area, what
the area saw before, and the playbooks proposed with the tasks they would create. The
text is rendered from templates per language (`Renderer.analysis`); this module only
gathers the facts. No personal data and no text of a report: the analysis travels to
the panel by e-mail and Slack, so the reports' text stays on the review page, where a
signed-in member reads it. Persons are counted by role at most.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import Field

from concord.common.types import Strict
from concord.core.tension import reliability
from concord.streams.reviews import AnalysisVersion, Proposal, ReviewRecord
from concord.streams.situations import PastSituation, Situation, Tension
from concord.streams.tasks import Task


class SignalFact(Strict):
    """One signal as the panel sees it."""

    occurred_at: datetime
    kind: str
    category: str
    severity: int
    source_type: str
    reliability: float


class TaskFact(Strict):
    """A task a proposed playbook would create."""

    key: str
    agency: str
    title: str
    urgent: bool
    due_in: str | None = None
    titles: dict[str, str] = Field(default_factory=dict, description="title per language")


class ProposalFact(Strict):
    """A playbook proposed for the situation and its tasks."""

    playbook: str
    title: str
    version: int
    tasks: list[TaskFact]


class Draft(Strict):
    """The facts of one analysis version."""

    situation_id: str
    version: int = 1
    by: str = "concord"
    area: str
    area_name: str
    state: str
    severity: int
    categories: list[str]
    bias: list[str]
    exercise: bool
    opened_at: datetime
    tension: Tension
    signals: list[SignalFact]
    week_earlier: int = Field(description="signals in the area 7 to 3.5 days before")
    week_recent: int = Field(description="signals in the area in the last 3.5 days")
    area_90_days: int = Field(description="signals in the area in 90 days, this one's aside")
    previous: list[PastSituation] = Field(default_factory=list)
    proposals: list[ProposalFact]
    notes: list[str] = Field(default_factory=list)
    changes: list[str] = Field(default_factory=list)
    more_changes: int = Field(0, description="changes left out of `changes` (a notice's)")
    more_signals: int = Field(0, description="earlier signals left out of `signals`")

    @property
    def trend(self) -> str:
        """`rising`, `falling` or `steady` over the last week."""
        if self.week_recent > self.week_earlier:
            return "rising"
        return "falling" if self.week_recent < self.week_earlier else "steady"


def _due_in(task: Task) -> str | None:
    if task.due is None:
        return None
    hours = round((task.due - task.created_at) / timedelta(hours=1))
    return f"{hours // 24}d" if hours >= 24 and hours % 24 == 0 else f"{hours}h"


#: What a notice to the panel shows of a long analysis: its first changes and its latest
#: signals (a burst of reports of one incident would fill a Slack message, which keeps
#: 3,000 characters, before the proposed response); the review page shows everything.
NOTICE_CHANGES = 5
NOTICE_SIGNALS = 10


def draft(
    situation: Situation, area_name: str, version: AnalysisVersion, brief: bool = False
) -> Draft:
    """Gather the facts of one analysis version of `situation`; `brief`: as a notice
    shows them (`NOTICE_CHANGES`, `NOTICE_SIGNALS`)."""
    ctx = situation.context
    changes = list(version.changes) if version.version > 1 else []
    signals = sorted(situation.signals, key=lambda r: r.occurred_at)
    shown_changes = changes[:NOTICE_CHANGES] if brief else changes
    shown_signals = signals[-NOTICE_SIGNALS:] if brief else signals
    return Draft(
        situation_id=situation.id,
        version=version.version,
        by=version.by,
        area=situation.area,
        area_name=area_name,
        state=str(situation.state),
        severity=version.severity,
        categories=[str(c) for c in situation.categories],
        bias=[str(b) for b in situation.bias],
        exercise=situation.exercise,
        opened_at=situation.opened_at,
        tension=situation.tension,
        signals=[
            SignalFact(
                occurred_at=r.occurred_at,
                kind=str(r.kind),
                category=str(r.category),
                severity=r.severity,
                source_type=r.source_type,
                reliability=reliability(r.source_type),
            )
            for r in shown_signals
        ],
        more_signals=len(signals) - len(shown_signals),
        week_earlier=ctx.week_earlier,
        week_recent=ctx.week_recent,
        area_90_days=ctx.signals_90_days,
        previous=ctx.previous,
        proposals=[_proposal_fact(p) for p in version.proposals],
        notes=list(version.notes),
        changes=shown_changes,
        more_changes=len(changes) - len(shown_changes),
    )


def with_new_signals(
    record: ReviewRecord, situation: Situation, now: datetime
) -> AnalysisVersion | None:
    """The analysis version that takes in the signals that joined the situation since the
    review last saw it (None: none did). The panel decides on the facts as they are;
    votes on the earlier version must be cast again (`core.tally.check_vote`)."""
    known = {r.id for r in record.situation.signals}
    new = [r for r in situation.signals if r.id not in known]
    if not new:
        return None
    return AnalysisVersion(
        version=record.version + 1,
        at=now,
        by="concord",
        severity=max(situation.severity, record.current.severity),
        proposals=list(record.current.proposals),
        notes=list(record.current.notes),
        changes=[
            f"signal {r.id} joined: {r.category} in {r.area or situation.area}, "
            f"severity {r.severity}"
            for r in new
        ],
    )


def _proposal_fact(p: Proposal) -> ProposalFact:
    return ProposalFact(
        playbook=p.playbook,
        title=p.title,
        version=p.version,
        tasks=[
            TaskFact(
                key=t.task_key,
                agency=t.agency,
                title=t.title,
                titles={lang: x.title for lang, x in t.translations.items()},
                urgent=t.urgent,
                due_in=_due_in(t),
            )
            for t in p.tasks
        ],
    )
