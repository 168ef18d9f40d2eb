"""The audit model, and `via` (how someone acted) on every topic that carries it: records
written when it was still called `channel` still read."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from concord.streams.audit import AuditEntry
from concord.streams.tasks import Step, TaskEvent
from concord.streams.votes import Vote

AT = "2026-11-30T10:00:00+00:00"


@pytest.mark.parametrize(
    ("model", "fields"),
    [
        (AuditEntry, {"actor": "a", "action": "x", "subject": "s", "at": AT}),
        (TaskEvent, {"task_id": "t", "action": "ack", "actor": "p", "at": AT}),
        (Step, {"at": AT, "action": "ack", "actor": "p", "before": "a", "after": "b"}),
        (Vote, {"member": "m", "decision": "approve", "version": 1, "at": AT}),
    ],
)
def test_an_old_record_with_channel_reads_as_via(
    model: type[BaseModel], fields: dict[str, object]
) -> None:
    old = model.model_validate_json(
        model(**fields, via="web").model_dump_json().replace('"via"', '"channel"')
    )
    assert getattr(old, "via") == "web"  # noqa: B009 (the models differ)
    assert '"via":"web"' in old.model_dump_json()
    assert '"channel"' not in old.model_dump_json()
