"""`/audit`: the audit log for coordinators and operators, newest first, filtered by
who, what and about what, 50 entries a page. Access to personal data
(`persons.viewed`, `reports.read`) is marked as such; details are shown as fields, so a
value (a reason someone typed) can never pass for another detail.

A worker keeps the latest entries in memory (`concord.web.readmodel.AUDIT_KEPT`); the
whole log stays on `concord.audit`.
"""

from __future__ import annotations

import faust
from faust.web import Request, Response

from concord.web.auth import Actor
from concord.web.session import page_for
from concord.web.site import Site, bind, route

READERS = {"coordinator", "operator"}
PAGE = 50
#: Actions that are access to personal data.
PERSONAL = {"persons.viewed", "reports.read"}


async def show(site: Site, request: Request) -> Response:
    """`GET /audit[?actor=&action=&subject=&page=]`."""
    who = page_for(site, request, READERS)
    if not isinstance(who, Actor):
        return who
    q = request.query
    actor, action, subject = (q.get(k, "").strip()[:200] for k in ("actor", "action", "subject"))
    try:
        page = max(1, min(int(q.get("page", "1")), 100_000))
    except ValueError:
        page = 1
    start = (page - 1) * PAGE
    total, entries = site.readmodel.audit.newest(start, PAGE, actor, action, subject)
    return site.pages.render(
        "audit.html",
        session=who,
        entries=entries,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        wanted={"actor": actor, "action": action, "subject": subject},
        personal=PERSONAL,
    )


def register(app: faust.App, site: Site) -> None:
    """Bind `GET /audit`."""
    route(app, "/audit", get=bind(show, site))
