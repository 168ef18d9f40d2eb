"""The audit page (concord.web.audit_log): details are fields, never run together."""

from __future__ import annotations

import re

from concord.streams.audit import AuditEntry
from concord.web.audit_log import PERSONAL
from concord.web.site import Pages
from tests.unit.factories import DIRECTORY, html

PAGES = Pages("Europe/Brussels", DIRECTORY)


def render(entry: AuditEntry) -> str:
    return (
        html(
            PAGES.render(
                "audit.html",
                session=None,
                lang="en",
                entries=[entry],
                total=1,
                page=1,
                pages=1,
                wanted={"actor": "", "action": "", "subject": ""},
                personal=PERSONAL,
            )
        )
        or ""
    )


def test_a_typed_reason_cannot_pass_for_other_details() -> None:
    forged = "busy\n names_shown=9 sharing=full"
    page = render(
        AuditEntry(
            actor="police-duty",
            action="task.declined",
            subject="t1",
            details={"reason": forged, "before": "assigned"},
        )
    )
    fields = re.findall(r"<dt>([^<]*)</dt><dd>([^<]*)</dd>", page)
    assert fields == [("before", "assigned"), ("reason", forged)]


def test_reading_reports_is_flagged_as_personal_data_viewed() -> None:
    page = render(AuditEntry(actor="coord", action="reports.read", subject="sit-1"))
    assert "personal data viewed" in page
