"""`POST /api/cap`: a CAP 1.2 alert from another system (a producer's token).

The alert is read and checked here, with the rules of `concord.core.capin` (safe XML,
the OASIS schema, the mapping), so that a caller learns at once what is wrong (422, by
XPath); a valid one is put on `concord.cap.in` and answered 202 once the broker has it.
The `capin` stage then admits its signals, triages what it cannot place and closes what
a Cancel names, as for alerts sent by `concord signal send --cap` or on the topic.
"""

from __future__ import annotations

import asyncio

import faust
from faust.web import Request, Response

from concord.core import capin
from concord.core.refusal import Refused
from concord.web.auth import require
from concord.web.body import read_body
from concord.web.site import Site, bind, error, json_response, route

#: Who may send alerts: the roles that may send signals.
ROLES = {"producer", "coordinator", "operator"}
#: The largest alert (a CAP alert with a few `info` blocks is a few kilobytes).
MAX_ALERT = 256_000


async def post_cap(site: Site, request: Request) -> Response:
    """202 `{"identifier", "signals", "triage", "cancels"}`, or 422 naming each XPath."""
    require(site.readmodel, request, ROLES)
    raw = await read_body(request, MAX_ALERT)
    # In a thread: the schema check of a large alert takes a good part of a second (about
    # 0.5 ms per info block), which the worker's event loop must not spend.
    mapped = await asyncio.to_thread(capin.read, raw, site.directory)
    if isinstance(mapped, Refused):
        return error(422, mapped.reason, errors=mapped.errors)
    key = mapped.identifier[:200]
    await site.flow.acked(site.flow.topics.cap_in.send(key=key, value=raw))
    site.flow.metrics.signals.labels("cap").inc(len(mapped.signals) + len(mapped.triage))
    answer = {
        "identifier": mapped.identifier,
        "signals": [s["id"] for s in mapped.signals],
        "triage": [t.signal["id"] for t in mapped.triage],
        "cancels": mapped.cancels,
    }
    return json_response(answer, 202)


def register(app: faust.App, site: Site) -> None:
    """Bind `POST /api/cap`."""
    route(app, "/api/cap", post=bind(post_cap, site))
