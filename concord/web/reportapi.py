"""`POST /api/reports`: the report form's JSON twin (`concord.web.report`), for NGOs'
and schools' systems, as JSON or `multipart/form-data` with files; no token.

A client that did not hear the answer (a timeout, a 503) sends the report again. With an
`Idempotency-Key` header it is the same report under the same receipt, taken once: the
receipt is made from the key, the report and its files (`same_as`), so no table is kept
and any worker answers the same. A key sent again with another report is another report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import faust
from faust.web import Request, Response

from concord.core import evidence
from concord.core.reports import idempotency_key, same_receipt
from concord.web.body import Upload, parse_json, read_json, read_multipart
from concord.web.report import (
    MAX_BODY,
    MAX_UPLOAD,
    PARTS_HINT,
    Reports,
    accept,
    limited,
    multipart,
)
from concord.web.site import bind, error, json_response, route


async def api_report(r: Reports, request: Request) -> Response:
    """`POST /api/reports` (no token): 202 `{"receipt"}`, 422 with the field paths, 429."""
    refused = limited(r, request)
    if refused is not None:
        return refused
    files: list[Upload] = []
    if multipart(request):
        form, files = await read_multipart(request, evidence.MAX_BYTES, MAX_UPLOAD, MAX_BODY)
        unknown = sorted({name for name in form.names() if name != "report"})
        if unknown:  # a part the contract does not name, or files sent as text
            errors = [{"loc": n or "(part)", "msg": PARTS_HINT} for n in unknown]
            return error(422, "invalid report", errors=errors)
        body = parse_json(form.text("report").encode())
    else:
        body = await read_json(request, MAX_BODY)
    try:
        receipt = same_as(r, request, body, files)
    except ValueError as exc:
        errors = [{"loc": "Idempotency-Key", "msg": str(exc)}]
        return error(422, "invalid Idempotency-Key header", errors=errors)
    taken = await accept(r, body, files, receipt=receipt)
    if taken.receipt is None:
        why = {413: "file too large", 415: "file type not taken"}.get(
            taken.status, "invalid report"
        )
        return error(taken.status, why, errors=taken.errors)
    answer = {"receipt": taken.receipt, "status": f"/report/{taken.receipt}"}
    return json_response(answer | ({"referred_to": taken.body} if taken.body else {}), 202)


def same_as(r: Reports, request: Request, body: Any, files: Sequence[Upload]) -> str | None:
    """The receipt of a report sent with an `Idempotency-Key`: the same for the same key,
    report and files (so sent again, it is taken once); None without the header; raises
    ValueError for a header that is not a key."""
    given = request.headers.get("Idempotency-Key")
    if given is None:
        return None
    key = idempotency_key(given)
    said = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    sums = [hashlib.sha256(f.name.encode() + b"\0" + f.data).digest() for f in files]
    return same_receipt(r.site.signer.receipt_key, b"api", key.encode(), said, *sums)


def register(app: faust.App, reports: Reports) -> None:
    """Bind `POST /api/reports`."""
    route(app, "/api/reports", post=bind(api_report, reports))
