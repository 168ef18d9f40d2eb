"""The audit model, and `via` (how someone acted) on every topic that carries it: records
written when it was still called `channel` still read."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from concord.streams.audit import AuditEntry, AuditRecord
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


def test_an_audit_record_holds_entries_and_reads_a_bare_entry_of_before() -> None:
    entry = AuditEntry(actor="a", action="task.created", subject="t1")
    record = AuditRecord(entries=[entry, entry.model_copy(update={"subject": "t2"})])
    assert AuditRecord.model_validate_json(record.model_dump_json()) == record
    assert record.key == "t1"
    bare = AuditRecord.model_validate_json(entry.model_dump_json())  # written before 2026-12-06
    assert bare.entries == [entry]
    with pytest.raises(ValidationError):
        AuditRecord.model_validate_json(b'{"entries": []}')
