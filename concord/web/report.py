"""Reporting, for the public, NGOs and schools (no sign-in): the `/report` form in
fr/en/nl, its JSON twin `POST /api/reports`, and `GET /report/{receipt}`.

A report is checked (`concord.streams.reports.ReportIn`), turned into a signal
(`concord.core.reports.to_signal`), validated by intake like any signal and admitted to
`concord.signals`. The reporter gets a receipt; its status page shows received, being
handled or closed, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import faust
from aiohttp import web
from faust.web import Request, Response
from pydantic import ValidationError

from concord.core import intake
from concord.core.refusal import Refused
from concord.core.reports import is_receipt, new_receipt, signal_id, status_of, to_signal
from concord.streams.reports import ReportIn
from concord.streams.signals import Bias
from concord.web.answer import errors_of
from concord.web.body import Form, read_form, read_json
from concord.web.i18n import N_
from concord.web.security import same_origin
from concord.web.site import Site, bind, error, json_response, redirect, route
from concord.web.throttle import RateLimit

#: The largest report body.
MAX_BODY = 32_000
#: The categories and motivations in plain words (the form's choices).
CATEGORY_WORDS = {
    "hate_crime": N_("Violence or a threat because of who someone is"),
    "hate_speech": N_("Hateful words said or written in public"),
    "online_hate": N_("Hate online or on social media"),
    "discrimination": N_("Treated unfairly: housing, work, a shop, a service"),
    "harassment": N_("Insults or harassment, again and again"),
    "vandalism": N_("Graffiti or damage to a place"),
    "intergroup_conflict": N_("Conflict between groups in the neighbourhood"),
    "rumour": N_("A rumour that could turn people against a group"),
    "demonstration": N_("A gathering or march against a group"),
    "other": N_("Something else"),
}
BIAS_WORDS = {
    "anti_muslim": N_("against Muslims"),
    "anti_black": N_("against Black people"),
    "antisemitic": N_("against Jews"),
    "anti_roma": N_("against Roma"),
    "anti_migrant": N_("against migrants or refugees"),
    "anti_asian": N_("against people of Asian origin"),
    "other": N_("another reason"),
}
ROLE_WORDS = {
    "victim": N_("It happened to me"),
    "witness": N_("I saw it happen"),
    "on_behalf": N_("I report for someone else"),
    "organisation": N_("I report for an organisation (NGO, school, association)"),
}
#: What to fix, per field, in plain words (the form's language): never a validator's text.
FIELD_ERRORS = {
    "category": N_("Choose what happened."),
    "bias": N_("Choose among the reasons listed, or none."),
    "summary": N_("Tell us what happened, in 4,000 characters at most."),
    "area": N_("Choose the area on the list."),
    "place": N_("Write the place in 200 characters at most."),
    "occurred_at": N_("Give the day and time it happened; it cannot be in the future."),
    "reporter_role": N_("Choose who is reporting."),
    "organisation": N_("Write the organisation's name in 200 characters at most."),
    "contact": N_(
        "Give an email address or a phone number where we can reach you, or untick "
        "the box if we may not contact you."
    ),
}
#: The fields as the form names them (the list of what to fix links to each).
FIELD_NAMES = {
    "category": N_("What happened?"),
    "bias": N_("Why, do you think? (you may tick several, or none)"),
    "summary": N_("Tell us what happened"),
    "area": N_("Where? (area)"),
    "place": N_("The place, if you wish (a street, a stop, a school)"),
    "occurred_at": N_("When?"),
    "reporter_role": N_("Who is reporting?"),
    "organisation": N_("Name of the organisation (if you report for one)"),
    "contact": N_("Email or phone"),
}
#: Anything else the checks refuse (it names no field a person typed in).
OTHER_ERROR = N_("Something in the report could not be read: please check it and send again.")
STATUS_WORDS = {
    "received": N_("Received: your report is recorded and will be looked at."),
    "being_handled": N_("Being handled: the city's services are working on it."),
    "closed": N_("Closed: the services finished their work on it."),
}


@dataclass(frozen=True)
class Reports:
    """The report pages: the site and the per-client limit."""

    site: Site
    limit: RateLimit


def client(request: Request) -> str:
    """Whom the rate limit counts: the peer's address."""
    return cast(web.Request, request).remote or "?"


async def accept(site: Site, data: Any) -> tuple[str | None, list[dict[str, str]]]:
    """Check a report and admit its signal: (receipt, []) or (None, field errors)."""
    try:
        report = ReportIn.model_validate(data)
    except ValidationError as exc:
        return None, errors_of(exc)
    receipt = new_receipt()
    result = intake.validate_signal(to_signal(report, receipt), site.directory)
    if isinstance(result, Refused):  # an area the directory does not know, say
        return None, result.errors
    await (await site.flow.admit(site.directory, result))
    site.flow.metrics.signals.labels("report").inc()
    return receipt, []


def limited(r: Reports, request: Request) -> Response | None:
    """A 429 answer when this client sent too many reports lately, else None."""
    wait = r.limit.wait(client(request))
    if wait is None:
        return None
    response = error(429, "too many reports from here: try again later")
    response.headers["Retry-After"] = str(int(wait) + 1)
    return response


async def api_report(r: Reports, request: Request) -> Response:
    """`POST /api/reports` (no token): 202 `{"receipt"}`, 422 with the field paths, 429."""
    refused = limited(r, request)
    if refused is not None:
        return refused
    body = await read_json(request, MAX_BODY)
    receipt, errors = await accept(r.site, body)
    if receipt is None:
        return error(422, "invalid report", errors=errors)
    return json_response({"receipt": receipt, "status": f"/report/{receipt}"}, 202)


def form_page(
    r: Reports,
    request: Request,
    status: int = 200,
    errors: list[dict[str, str]] | None = None,
    given: dict[str, Any] | None = None,
) -> Response:
    """The report form, with the errors next to their fields and what was typed kept."""
    site = r.site
    return site.pages.render(
        "report.html",
        status,
        lang=site.language(request),
        categories=CATEGORY_WORDS,
        biases=BIAS_WORDS,
        roles=ROLE_WORDS,
        areas=[(a.code, a.name) for a in site.directory.areas],
        errors=plain(errors or []),
        names=FIELD_NAMES,
        given=given or {},
    )


def plain(errors: list[dict[str, str]]) -> dict[str, str]:
    """The checks' errors as field -> what to fix in plain words (a message id)."""
    out: dict[str, str] = {}
    for e in errors:
        field = e["loc"].split(".")[0]
        out.setdefault(field if field in FIELD_ERRORS else "", FIELD_ERRORS.get(field, OTHER_ERROR))
    return out


async def show_form(r: Reports, request: Request) -> Response:
    """`GET /report[?lang=]`."""
    return form_page(r, request)


def from_form(form: Form, timezone: str, language: str) -> dict[str, Any]:
    """The form's fields as a report (a local time in the city's zone)."""
    when = form.text("occurred_at")
    try:
        at = datetime.fromisoformat(when).replace(tzinfo=ZoneInfo(timezone)).isoformat()
    except ValueError:
        at = when  # the model names the field
    consent = form.text("consent_to_contact") == "yes"
    return {
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
    form = await read_form(request, MAX_BODY)
    lang = site.language(request)
    data = from_form(form, site.directory.city.timezone, lang)
    receipt, errors = await accept(site, data)
    if receipt is None:
        return form_page(r, request, 422, errors, {**data, "when": form.text("occurred_at")})
    # Post, then redirect: a reload shows the receipt again and never sends it twice.
    sent = site.signer.form_token("report", receipt)
    return redirect(f"/report/{receipt}?lang={lang}&sent={sent}")


async def status_page(r: Reports, request: Request, receipt: str) -> Response:
    """`GET /report/{receipt}`: received, being handled or closed — nothing personal."""
    site = r.site
    lang = site.language(request)
    sid = signal_id(receipt)
    sent = request.query.get("sent", "")
    if is_receipt(receipt) and sent and site.signer.check_form(sent, "report", receipt):
        # Whoever just sent it: the receipt, before the flow has read the report.
        return site.pages.render("report_done.html", lang=lang, receipt=receipt)
    if not is_receipt(receipt) or sid not in site.readmodel.reports:
        return site.pages.message(
            404, N_("Report"), N_("No report is known with this receipt (yet)."), lang=lang
        )
    status = status_of(site.readmodel.situation_of(sid))
    return site.pages.render(
        "report_status.html", lang=lang, receipt=receipt, state=status, words=STATUS_WORDS
    )


def register(app: faust.App, site: Site, limit: RateLimit) -> None:
    """Bind the report form, its receipt page and `POST /api/reports`."""
    reports = Reports(site, limit)
    route(app, "/report", get=bind(show_form, reports), post=bind(submit_form, reports))
    route(app, "/report/{receipt}", get=bind(status_page, reports))
    route(app, "/api/reports", post=bind(api_report, reports))
