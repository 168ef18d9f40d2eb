"""Triage (`/triage`): what came in but could not be placed, for the coordinators.

A CAP alert whose area names none of the directory's, or a partner's email that says no
area or what happened, waits on `concord.triage`
(`concord.streams.triage`). A coordinator reads what it says (opened for them, audited)
and chooses its area; it then goes through intake's checks and sealing like any signal
(`Flow.admit`), and leaves the queue.
"""

from __future__ import annotations

import asyncio
import json
import logging

import faust
from faust.web import Request, Response

from concord.core import intake
from concord.core.evidence import Kept
from concord.core.refusal import Refused
from concord.privacy.keys import Erased, SealError
from concord.streams.signals import EvidenceRef
from concord.streams.triage import TriageItem
from concord.web.auth import Actor
from concord.web.body import read_form
from concord.web.evidence import opened as opened_file
from concord.web.i18n import N_
from concord.web.session import page_for
from concord.web.site import Site, bind, redirect, route
from concord.worker.runtime import triage_subject

log = logging.getLogger(__name__)
READERS = {"coordinator", "operator"}


def opened(site: Site, item: TriageItem) -> dict[str, object] | None:
    """The waiting signal as its producer sent it; None once erased or unreadable."""
    try:
        data = json.loads(site.flow.sealer.open(item.sealed, site.readmodel.keys))
    except Erased:
        return None
    except (SealError, ValueError):
        log.error("triage item %s cannot be opened with its data key", item.id)
        return None
    return data if isinstance(data, dict) else None


async def page(
    site: Site, who: Actor, status: int = 200, error: str | None = None, notice: str | None = None
) -> Response:
    """The queue, oldest first, each with what it says and a form to place it."""
    items = sorted(site.readmodel.triage.values(), key=lambda i: i.received_at)
    said = {i.id: opened(site, i) for i in items}
    shown = [i.id for i in items if said[i.id] is not None]
    if shown:
        await site.flow.audit_view(
            who.person, "triage.read", "triage", via="web", items=",".join(shown)
        )
    return site.pages.render(
        "triage.html",
        status,
        session=who,
        items=items,
        said=said,
        areas=[(a.code, a.name) for a in site.directory.areas],
        may_act=who.role == "coordinator",
        csrf=site.signer.form_token(who.person, "triage"),
        error=error,
        notice=notice,
    )


async def show(site: Site, request: Request) -> Response:
    """`GET /triage`."""
    who = page_for(site, request, READERS)
    if not isinstance(who, Actor):
        return who
    placed = request.query.get("placed") == "1"
    return await page(
        site, who, notice=N_("Placed: it goes through intake now.") if placed else None
    )


async def place(site: Site, request: Request, item_id: str) -> Response:
    """`POST /triage/{id}`: the area chosen; the signal admitted, the item gone."""
    who = page_for(site, request, {"coordinator"})
    if not isinstance(who, Actor):
        return who
    form = await read_form(request)
    if not site.signer.check_form(form.text("csrf"), who.person, "triage"):
        return await page(site, who, 403, N_("The form expired: try again."))
    item = site.readmodel.triage.get(item_id)
    data = opened(site, item) if item is not None else None
    if item is None or data is None:
        return await page(site, who, 404, N_("It is not waiting any more."))
    given = data.pop("evidence", [])
    refs = [EvidenceRef.model_validate(r) for r in (given if isinstance(given, list) else [])]
    checked = intake.validate_signal({**data, "area": form.text("area")}, site.directory)
    if isinstance(checked, Refused):
        return await page(site, who, 422, N_("Choose an area on the list."))
    files = await waiting_files(site, item_id, refs)
    await site.flow.acked(site.flow.admit(site.directory, checked, files))
    await site.flow.topics.triage.tombstone(item_id)
    if site.flow.blobs is not None:  # moved: sealed again under the signal's own key
        await asyncio.to_thread(site.flow.blobs.delete, triage_subject(item_id))
    await site.flow.audit(who.person, "triage.placed", item_id, via="web", area=checked.area)
    return redirect("/triage?placed=1")


async def waiting_files(site: Site, item_id: str, refs: list[EvidenceRef]) -> list[Kept]:
    """The files that waited with an item, opened (a file gone or unreadable is left)."""
    out = []
    for ref in refs:
        blob = await opened_file(site, triage_subject(item_id), ref)
        if blob is not None:
            out.append(Kept(ref.type, blob))
    return out


def register(app: faust.App, site: Site) -> None:
    """Bind the triage queue."""
    route(app, "/triage", get=bind(show, site))
    route(app, "/triage/{item_id}", post=bind(place, site))
