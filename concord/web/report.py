"""Reporting, for the public, NGOs and schools (no sign-in): the `/report` form in
fr/en/nl, and `GET /report/{receipt}`; its JSON twin `POST /api/reports` is
`concord.web.reportapi`.

A report is checked (`concord.streams.reports.ReportIn`), turned into a signal
(`concord.core.reports.to_signal`), validated by intake like any signal and admitted to
`concord.signals`. The reporter gets a receipt; its status page shows received, being
handled or closed, and nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import faust
from aiohttp import web
from faust.web import Request, Response
from pydantic import ValidationError

from concord.core import evidence, intake
from concord.core.referral import decide
from concord.core.refusal import Refused
from concord.core.reports import is_receipt, new_receipt, signal_id, status_of, to_signal
from concord.delivery.compose import Compose
from concord.streams.reports import ReportIn
from concord.streams.signals import Bias, Indicator
from concord.web.answer import errors_of
from concord.web.body import (
    BodyError,
    Form,
    Upload,
    read_form,
    read_multipart,
)
from concord.web.i18n import N_
from concord.web.referral import refer
from concord.web.reportwords import (
    BIAS_WORDS,
    CATEGORY_WORDS,
    FIELD_ERRORS,
    FIELD_NAMES,
    FILE_ERRORS,
    INDICATOR_WORDS,
    OTHER_ERROR,
    ROLE_WORDS,
    STATUS_WORDS,
)
from concord.web.security import same_origin
from concord.web.site import Site, bind, error, redirect, route
from concord.web.throttle import RateLimit
from concord.worker.acks import RETRY_AFTER, Unavailable

log = logging.getLogger(__name__)
#: The purpose of the signature on a receipt a form is sent back with.
AGAIN = "report-again"
#: Above the form sent back when the broker did not confirm the report in time.
NOT_SAVED = N_(
    "Concord could not confirm just now that your report was saved. What you wrote is "
    "below: send it again in a few seconds, with its files chosen again."
)

#: What a multipart report holds (`POST /api/reports`).
PARTS_HINT = "a report is a part `report` (JSON) and up to 5 parts `files` (files)"
#: The largest report body without files.
MAX_BODY = 32_000
#: The largest report body with its files (5 of 10 MB, and the fields).
MAX_UPLOAD = evidence.MAX_FILES * (evidence.MAX_BYTES + 64_000) + MAX_BODY


@dataclass(frozen=True)
class Reports:
    """The report pages: the site, the per-client limit, and what composes referrals."""

    site: Site
    limit: RateLimit
    compose: Compose


@dataclass(frozen=True)
class Taken:
    """A report accepted (its receipt, the body it was referred to) or refused (its
    field errors, and the status: 422, or 413/415 for a file)."""

    receipt: str | None
    errors: list[dict[str, str]]
    status: int = 422
    body: str | None = None
    file: evidence.Refusal | None = None


async def checked_files(files: Sequence[Upload]) -> list[evidence.Kept] | evidence.Refusal:
    """The files through the evidence checks, in a thread: decoding and re-encoding a
    phone's photo takes about a quarter of a second, which the worker's event loop (every
    stage, every request) must not spend waiting."""
    return await asyncio.to_thread(evidence.keep_all, [(f.name, f.data) for f in files])


def client(request: Request) -> str:
    """Whom the rate limit counts: the peer's address."""
    return cast(web.Request, request).remote or "?"


async def accept(
    r: Reports,
    data: Any,
    files: Sequence[Upload] = (),
    source_type: str | None = None,
    kept: Sequence[evidence.Kept] | None = None,
    receipt: str | None = None,
) -> Taken:
    """Check a report and its files, admit its signal and refer it where it goes.
    `kept`: files checked already (a partner's mail keeps what passes), taken as they are;
    `receipt`: the one a first try that was not confirmed had (so the report is taken
    once), else a new one."""
    site = r.site
    try:
        report = ReportIn.model_validate(data)
    except ValidationError as exc:
        return Taken(None, errors_of(exc))
    if kept is None:
        checked = await checked_files(files)
        if isinstance(checked, evidence.Refusal):
            what = [{"loc": "files", "msg": checked.reason}]
            return Taken(None, what, checked.status, file=checked)
        kept = checked
    referral = None
    if report.wants == "act":  # a report only registered is counted, never passed on
        referral = decide(
            site.directory, report.category, list(report.bias), report.area, report.refer
        )
    receipt = receipt or new_receipt()
    competent = bool(referral and referral.why == "competent")
    signal = to_signal(report, receipt, competent, source_type)
    result = intake.validate_signal(signal, site.directory)
    if isinstance(result, Refused):  # an area the directory does not know, say
        return Taken(None, result.errors)
    body = referral.body.id if referral else None
    await site.flow.acked(site.flow.admit(site.directory, result, kept, body))
    if referral:
        await refer(site, r.compose, result, referral)
    site.flow.metrics.signals.labels("report").inc()
    return Taken(receipt, [], 202, body)


def limited(r: Reports, request: Request) -> Response | None:
    """A 429 answer when this client sent too many reports lately, else None."""
    wait = r.limit.wait(client(request))
    if wait is None:
        return None
    response = error(429, "too many reports from here: try again later")
    response.headers["Retry-After"] = str(int(wait) + 1)
    return response


def multipart(request: Request) -> bool:
    """Whether the request's body is `multipart/form-data`."""
    return cast(web.Request, request).content_type == "multipart/form-data"


def form_page(
    r: Reports,
    request: Request,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    given: dict[str, Any] | None = None,
    refused: evidence.Refusal | None = None,
    notice: str = "",
) -> Response:
    """The report form, with the errors next to their fields and what was typed kept;
    `notice`: what to tell above the form (a message id)."""
    site = r.site
    return site.pages.render(
        "report.html",
        status,
        lang=site.language(request),
        categories=CATEGORY_WORDS,
        biases=BIAS_WORDS,
        roles=ROLE_WORDS,
        indicators=INDICATOR_WORDS,
        areas=[(a.code, a.name) for a in site.directory.areas],
        errors=plain(errors or []),
        file_error=file_error(refused),
        names=FIELD_NAMES,
        given=given or {},
        referral=bool(site.directory.bodies),
        max_files=evidence.MAX_FILES,
        notice=notice,
    )


def file_error(refused: evidence.Refusal | None) -> dict[str, str] | None:
    """What to fix about a file, and its name, if a file was refused."""
    if refused is None:
        return None
    return {"what": FILE_ERRORS.get(refused.status, FILE_ERRORS[422]), "file": refused.file}


def plain(errors: list[dict[str, str]]) -> dict[str, str]:
    """The checks' errors as field -> what to fix in plain words (a message id)."""
    out: dict[str, str] = {}
    for e in errors:
        field = e["loc"].split(".")[0]
        if field == "files":  # said apart, with the file's name (`file_error`)
            continue
        out.setdefault(field if field in FIELD_ERRORS else "", FIELD_ERRORS.get(field, OTHER_ERROR))
    return out


async def show_form(r: Reports, request: Request) -> Response:
    """`GET /report[?lang=]`."""
    return form_page(r, request)


def _local(when: str, timezone: str) -> str:
    """A form's local time in the city's zone, as ISO 8601 (as typed when unreadable: the
    model names the field)."""
    try:
        return datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(timezone)).isoformat()
    except ValueError:
        return when


def from_form(form: Form, timezone: str, language: str) -> dict[str, Any]:
    """The form's fields as a report (a local time in the city's zone)."""
    at = _local(form.text("occurred_at"), timezone)
    register = form.text("wants") == "register"
    consent = not register and form.text("consent_to_contact") == "yes"
    seen = form.text("seen_at")
    return {
        "wants": "register" if register else "act",
        "refer": not register and form.text("refer") == "yes",
        "indicators": [i for i in form.getall("indicators", []) if i in Indicator.__members__],
        "url": form.text("url"),
        "platform": form.text("platform"),
        "seen_at": _local(seen, timezone) if seen else None,
        "category": form.text("category"),
        "summary": form.text("summary").strip(),
        "area": form.text("area"),
        "place": form.text("place"),
        "occurred_at": at,
        "bias": [b for b in form.getall("bias", []) if b in Bias.__members__],
        "reporter_role": form.text("reporter_role"),
        "organisation": form.text("organisation"),
        "language": language,
        "consent_to_contact": consent,
        "contact": form.text("contact") if consent else "",
        "consent_to_share": consent and form.text("consent_to_share") == "yes",
    }


async def submit_form(r: Reports, request: Request) -> Response:
    """`POST /report`: the receipt page, or the form again with what to fix."""
    site = r.site
    if not same_origin(request):
        return site.pages.message(403, N_("Report"), N_("This form was sent from another site."))
    refused = limited(r, request)
    if refused is not None:
        page = site.pages.message(
            429,
            N_("Report"),
            N_("Too many reports were sent from here. Please try again later."),
            lang=site.language(request),
        )
        page.headers["Retry-After"] = refused.headers["Retry-After"]
        return page
    files: list[Upload] = []
    try:
        if multipart(request):
            form, files = await read_multipart(request, evidence.MAX_BYTES, MAX_UPLOAD, MAX_BODY)
        else:
            form = await read_form(request, MAX_BODY)
    except BodyError as exc:
        if exc.code != 413:
            raise
        lang = site.language(request)
        return site.pages.message(
            413, N_("Report"), N_("The files are too large together: attach fewer."), lang=lang
        )
    lang = site.language(request)
    data = from_form(form, site.directory.city.timezone, lang)
    given = {**data, "when": form.text("occurred_at"), "seen": form.text("seen_at")}
    receipt = again(site, form) or new_receipt()
    try:
        taken = await accept(r, data, files, receipt=receipt)
    except Unavailable as exc:
        # What the person wrote comes back, to send again under the same receipt: the
        # first try may still reach Kafka, and a signal is taken once by its id.
        log.warning("POST /report answered 503: %s", exc)
        token = site.signer.form_token(AGAIN, receipt)
        given = {**given, "again": receipt, "again_token": token}
        page = form_page(r, request, 503, given=given, notice=NOT_SAVED)
        page.headers["Retry-After"] = str(RETRY_AFTER)
        return page
    if taken.receipt is None:
        return form_page(r, request, taken.status, taken.errors, given, taken.file)
    # Post, then redirect: a reload shows the receipt again and never sends it twice.
    to = taken.body or ""
    sent = site.signer.form_token("report", f"{taken.receipt}:{to}")
    return redirect(f"/report/{taken.receipt}?lang={lang}&sent={sent}&to={to}")


def again(site: Site, form: Any) -> str | None:
    """The receipt of a first try the form was sent back from unconfirmed (signed when
    the form was sent back), or None."""
    receipt, token = form.text("again"), form.text("again_token")
    if receipt and is_receipt(receipt) and site.signer.check_form(token, AGAIN, receipt):
        return str(receipt)
    return None


async def status_page(r: Reports, request: Request, receipt: str) -> Response:
    """`GET /report/{receipt}`: received, being handled or closed — nothing personal."""
    site = r.site
    lang = site.language(request)
    sid = signal_id(receipt)
    sent, to = request.query.get("sent", ""), request.query.get("to", "")
    if is_receipt(receipt) and sent and site.signer.check_form(sent, "report", f"{receipt}:{to}"):
        # Whoever just sent it: the receipt, before the flow has read the report.
        body = site.directory.body(to) if to else None
        return site.pages.render(
            "report_done.html",
            lang=lang,
            receipt=receipt,
            body=body,
            handler=_handler(site, body, lang),
        )
    if not is_receipt(receipt) or sid not in site.readmodel.reports:
        return site.pages.message(
            404, N_("Report"), N_("No report is known with this receipt (yet)."), lang=lang
        )
    status = status_of(site.readmodel.situation_of(sid))
    noted = site.readmodel.noted.get(sid)
    body = site.directory.body(noted.referred_to) if noted and noted.referred_to else None
    # A report only counted here: registered at the reporter's wish, or referred to the
    # body competent for it in the city's place.
    counted = bool(noted and noted.wants == "register")
    state = ("referred" if body else "registered") if counted else status
    return site.pages.render(
        "report_status.html",
        lang=lang,
        receipt=receipt,
        state=state,
        words=STATUS_WORDS,
        body=body,
        handler=_handler(site, body if counted else None, lang),
        also=body.name_in(lang) if body and not counted else None,
    )


def _handler(site: Site, body: Any, lang: str) -> str:
    """Who handles a report, named in the reporter's language: the body it was referred
    to, or the city's coordination office."""
    return str(body.name_in(lang)) if body is not None else site.directory.city.name


def register(app: faust.App, site: Site, limit: RateLimit, compose: Compose) -> Reports:
    """Bind the report form and its receipt page; returns what `POST /api/reports` shares
    with them (`concord.web.reportapi`)."""
    reports = Reports(site, limit, compose)
    route(app, "/report", get=bind(show_form, reports), post=bind(submit_form, reports))
    route(app, "/report/{receipt}", get=bind(status_page, reports))
    return reports
