"""Files given with reports, opened for one viewer: a liaison on the task page, or a
competent body on its referral page. Each opening is an audit entry (`evidence.viewed`).

The blob is read from the evidence store and opened with its signal's data key: once
the key is erased, nothing opens it, even where a copy of the store survives. A file is
served as what its bytes are (never what it was called), with `nosniff`, no caching,
and a sandbox: a PDF or a text file is a download, an image is shown.
"""

from __future__ import annotations

import asyncio
import logging

import faust
from faust.web import Request, Response

from concord.core.disclosure import NotDisclosed, check_access, shares_given, sharing_of
from concord.core.evidence import EXTENSIONS
from concord.privacy.keys import Erased, SealError
from concord.streams.signals import EvidenceRef
from concord.web.auth import Actor
from concord.web.i18n import N_
from concord.web.persons import answered_by, open_secret
from concord.web.session import page_for
from concord.web.site import Site, bind, bytes_response, route

log = logging.getLogger(__name__)


def find(site: Site, signal_ids: list[str], blob_id: str) -> tuple[str, EvidenceRef] | None:
    """The signal among `signal_ids` that gave the file `blob_id`, and its reference."""
    for signal_id in signal_ids:
        noted = site.readmodel.noted.get(signal_id)
        for ref in noted.evidence if noted else []:
            if ref.id == blob_id:
                return signal_id, ref
    return None


async def opened(site: Site, signal_id: str, ref: EvidenceRef) -> bytes | None:
    """The file's bytes, opened; None when erased or missing (logged when tampered)."""
    if site.flow.blobs is None or signal_id in site.readmodel.erased:
        return None
    sealed = await asyncio.to_thread(site.flow.blobs.get, signal_id, ref.id)
    if sealed is None:
        return None
    try:
        return site.flow.sealer.open(sealed.decode("ascii"), site.readmodel.keys)
    except Erased:
        return None
    except (SealError, UnicodeDecodeError):
        log.error("a file of signal %s cannot be opened with its data key", signal_id)
        return None


def served(ref: EvidenceRef, data: bytes, n: int = 1) -> Response:
    """The file as the browser gets it: shown when an image, else downloaded."""
    name = f"evidence-{n}.{EXTENSIONS[ref.type]}"
    inline = ref.type.startswith("image/")
    headers = {
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox; default-src 'none'",
    }
    return bytes_response(data, ref.type, headers=headers)


async def task_file(site: Site, request: Request, task_id: str, blob_id: str) -> Response:
    """`GET /tasks/{id}/evidence/{blob}`: a file of the task's reports, for a liaison whose
    sharing level and the reporter's consent allow it (else 404, as for another's task)."""
    who = page_for(site, request, {"liaison", "coordinator"})
    if not isinstance(who, Actor):
        return who
    missing = site.pages.message(404, N_("File"), N_("No such file for you."), session=None)
    task = site.readmodel.tasks.get(task_id)
    found = find(site, answered_by(site.readmodel, task), blob_id) if task else None
    if task is None or found is None:
        return missing
    try:
        check_access(task, who.person, who.role, who.agency)
    except NotDisclosed:
        return missing
    signal_id, ref = found
    sealed = site.readmodel.sealed.get(signal_id)
    level = sharing_of(site.directory, who.person, who.role, who.agency)
    try:
        persons = open_secret(site, sealed).persons if sealed else []
    except (SealError, ValueError):
        persons = []
    data = await opened(site, signal_id, ref) if shares_given(persons, level) else None
    if data is None:
        return missing
    await site.flow.audit_view(
        who.person,
        "evidence.viewed",
        task.id,
        via="web",
        signal=signal_id,
        file=ref.id,
        digest=ref.digest[:16],
        sharing=level.value,
    )
    return served(ref, data)


def register(app: faust.App, site: Site) -> None:
    """Bind `GET /tasks/{id}/evidence/{blob}`."""
    route(app, "/tasks/{task_id}/evidence/{blob_id}", get=bind(task_file, site))
