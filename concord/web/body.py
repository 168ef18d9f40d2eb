"""Reading request bodies: whole, bounded, strict. Every view reads its body through here.

aiohttp's `request.content.read(n)` returns what is buffered so far, not the body: a
body that arrives in several TCP segments (a large batch, a slow client, Slack's own
proxies) would be cut short. `read_body` reads to the end of the body, chunked or not,
and answers 413 as soon as it passes the limit. `read_json` adds the strict JSON rules
of `concord.core.jsonin`; `read_form` parses an urlencoded form as UTF-8 only.
Errors are raised as `BodyError` (a Faust `WebError`): the view answers
`{"error": ..., "errors": [{"loc": "(body)", "msg": ...}]}` with its status.
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import parse_qsl

from aiohttp import web
from faust.web.exceptions import WebError

from concord.core import jsonin

CHUNK = 64 * 1024
#: Most fields a form may carry (the review form has a handful).
MAX_FIELDS = 200


class BodyError(WebError):
    """A body that cannot be taken: too large (413) or not what it should be (422)."""

    code = 422


def _too_large(limit: int) -> BodyError:
    return BodyError(f"body larger than {limit} bytes", code=413)


async def read_body(request: Any, limit: int) -> bytes:
    """The whole body, at most `limit` bytes (413 past it, also when chunked)."""
    http = cast(web.Request, request)
    if (http.content_length or 0) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await http.content.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    """Strict JSON, or BodyError 422 with the reason."""
    try:
        return jsonin.loads(raw)
    except jsonin.JsonError as exc:
        raise BodyError("body is not JSON", errors=[{"loc": "(body)", "msg": str(exc)}]) from exc


async def read_json(request: Any, limit: int, *, empty: Any = None) -> Any:
    """The body as strict JSON (`empty` when there is no body and `empty` is not None)."""
    raw = await read_body(request, limit)
    if not raw.strip() and empty is not None:
        return empty
    return parse_json(raw)


class Form:
    """An urlencoded form: `get(name, default)` (the first value) and `getall(name)`."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def get(self, name: str, default: Any = None) -> Any:
        """The first value of a field, or `default`."""
        return next((v for k, v in self._pairs if k == name), default)

    def getall(self, name: str, default: Any = None) -> list[str]:
        """Every value of a field (`default`, or [], when none)."""
        found = [v for k, v in self._pairs if k == name]
        return found if found else ([] if default is None else default)

    def text(self, name: str) -> str:
        """The field's value stripped, '' when absent."""
        return str(self.get(name, "")).strip()


async def read_form(request: Any, limit: int = 64_000) -> Form:
    """An `application/x-www-form-urlencoded` body, UTF-8 only, at most `limit` bytes."""
    raw = await read_body(request, limit)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError("form is not UTF-8", errors=[{"loc": "(body)", "msg": str(exc)}]) from exc
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as exc:
        raise BodyError("form is not valid", errors=[{"loc": "(body)", "msg": str(exc)}]) from exc
    return Form(pairs)
