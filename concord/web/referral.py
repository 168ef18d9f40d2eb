"""Referral to a competent body: the message that tells the body, and the page it opens.

`refer` runs where a report is accepted (`concord.web.report`): the rules are
`concord.core.referral`'s. The body gets a message on its referral channels (email, or a
chat channel) with a signed link, never the report's text; the link opens
`/referrals/{token}`: what happened, where, when, the scrubbed text and the bias
indicators; the reporter's contact, the files and the link seen online only where the
reporter agreed to share them (`concord.core.disclosure.shares_given`, at `consented`).
Every referral and every view of one is an audit entry.
"""

from __future__ import annotations

import logging

import faust
from faust.web import Request, Response

from concord.access.links import LinkError
from concord.common.types import utcnow
from concord.config.directory import Sharing
from concord.core.disclosure import shares_given
from concord.core.referral import Referral
from concord.delivery.compose import Compose
from concord.privacy.keys import Erased, SealError
from concord.streams.signals import SignalIn
from concord.web.evidence import find, opened, served
from concord.web.i18n import N_
from concord.web.persons import open_secret
from concord.web.reportwords import INDICATOR_WORDS
from concord.web.site import Site, bind, route

log = logging.getLogger(__name__)
#: Referred bodies see what a `consented` agency would.
BODY_SHARING = Sharing.consented


async def refer(site: Site, compose: Compose, signal: SignalIn, referral: Referral) -> None:
    """Tell the body (on its channels, through the delivery stage) and audit it."""
    body = referral.body
    shared = any(p.consent_to_share for p in signal.persons)
    token = site.signer.referral_link(signal.id, body.id)
    link = f"{compose.renderer.public_url}/referrals/{token}"
    await site.flow.post(compose.referral(body, signal, referral.why, shared, link, utcnow()))
    await site.flow.audit(
        "report-form",
        "report.referred",
        signal.id,
        via="web",
        body=body.id,
        why=referral.why,
        shared="yes" if shared else "no",
    )


def _read(site: Site, token: str) -> tuple[str, str] | Response:
    try:
        signal_id, body_id = site.signer.read_referral_link(token)
    except LinkError as exc:
        text = N_("This link has expired.") if exc.expired else N_("This link is not valid.")
        return site.pages.message(410 if exc.expired else 404, N_("Referral"), text)
    noted = site.readmodel.noted.get(signal_id)
    if noted is None or noted.referred_to != body_id or site.directory.body(body_id) is None:
        return site.pages.message(404, N_("Referral"), N_("No such referral (yet)."))
    return signal_id, body_id


async def page(site: Site, request: Request, token: str) -> Response:
    """`GET /referrals/{token}`: the referred report, as the body may see it; audited."""
    found = _read(site, token)
    if not isinstance(found, tuple):  # a page that says why not
        return found
    signal_id, body_id = found
    body = site.directory.body(body_id)
    signal = site.readmodel.noted[signal_id]
    lang = site.language(request) if "lang" in request.query else (body.language if body else "en")
    erased = site.pages.message(
        410, N_("Referral"), N_("The personal data of this report was erased."), lang=lang
    )
    if signal_id in site.readmodel.erased:
        return erased
    try:
        secret = open_secret(site, signal.sealed)
        text = site.flow.sealer.open(signal.summary_sealed, site.readmodel.keys).decode()
    except Erased:  # its key is gone (the audit entry may not be read yet)
        return erased
    except (SealError, ValueError):
        log.error("referral of signal %s cannot be opened with its data key", signal_id)
        return site.pages.message(500, N_("Referral"), N_("This referral cannot be opened."))
    shared = shares_given(secret.persons, BODY_SHARING)
    contacts = [p.contact for p in secret.persons if p.consent_to_share and p.contact]
    await site.flow.audit_view(
        f"body.{body_id}",
        "referral.viewed",
        signal_id,
        via="web",
        shared="yes" if shared else "no",
        files=str(len(signal.evidence) if shared else 0),
    )
    return site.pages.render(
        "referral.html",
        lang=lang,
        token=token,
        body=body,
        area=site.directory.place([signal.area], lang),
        indicator_words=INDICATOR_WORDS,
        signal=signal,
        text=text,
        shared=shared,
        contacts=contacts,
        online=secret.online if shared else None,
        platform=secret.online.platform if secret.online else "",
        files=signal.evidence if shared else [],
        withheld=0 if shared else len(signal.evidence),
    )


async def referral_file(site: Site, request: Request, token: str, blob_id: str) -> Response:
    """`GET /referrals/{token}/evidence/{blob}`: a file, where the reporter agreed; audited."""
    found = _read(site, token)
    if not isinstance(found, tuple):  # a page that says why not
        return found
    signal_id, body_id = found
    missing = site.pages.message(404, N_("File"), N_("No such file for you."))
    hit = find(site, [signal_id], blob_id)
    signal = site.readmodel.noted[signal_id]
    try:
        persons = open_secret(site, signal.sealed).persons
    except (SealError, ValueError):
        return missing
    data = await opened(site, signal_id, hit[1]) if hit else None
    if hit is None or data is None or not shares_given(persons, BODY_SHARING):
        return missing
    await site.flow.audit_view(
        f"body.{body_id}",
        "evidence.viewed",
        signal_id,
        via="referral",
        file=blob_id,
        digest=hit[1].digest[:16],
    )
    return served(hit[1], data, 1 + [e.id for e in signal.evidence].index(blob_id))


def register(app: faust.App, site: Site) -> None:
    """Bind the referral page and its files."""
    route(app, "/referrals/{token}", get=bind(page, site))
    route(app, "/referrals/{token}/evidence/{blob_id}", get=bind(referral_file, site))
