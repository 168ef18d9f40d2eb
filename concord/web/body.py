"""Reading request bodies: whole, bounded, strict. Every view reads its body through here.

aiohttp's `request.content.read(n)` returns what is buffered so far, not the body: a
body that arrives in several TCP segments (a large batch, a slow client, Slack's own
proxies) would be cut short. `read_body` reads to the end of the body, chunked or not,
and answers 413 as soon as it passes the limit. `read_json` adds the strict JSON rules
of `concord.core.jsonin`; `read_form` parses an urlencoded form as UTF-8 only, and
`read_multipart` a form with files, each file bounded on its own.
Errors are raised as `BodyError` (a Faust `WebError`): the view answers
`{"error": ..., "errors": [{"loc": "(body)", "msg": ...}]}` with its status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qsl

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
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

    def names(self) -> list[str]:
        """The names of the fields, in order (repeated as often as given)."""
        return [k for k, _ in self._pairs]

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


@dataclass(frozen=True)
class Upload:
    """A file of a multipart form: its name as sent and its bytes (cut one byte past the
    per-file limit: enough to say it is too large, without keeping it)."""

    name: str
    data: bytes


async def _read_part(part: Any, keep: int, total: int, limit: int) -> tuple[bytes, int]:
    kept: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(CHUNK):
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
        if size < keep:
            kept.append(chunk[: keep - size])
        size += len(chunk)
    return b"".join(kept), total


async def read_multipart(
    request: Any, file_limit: int, limit: int, field_limit: int = 64_000
) -> tuple[Form, list[Upload]]:
    """A `multipart/form-data` body: its fields (UTF-8, at most `field_limit` bytes in
    all) and its files (each kept up to `file_limit` + 1 bytes). Past `limit` bytes in
    all: 413. A file input left empty sends no file. A part aiohttp cannot read (a
    header with control characters, a broken boundary): 422."""
    http = cast(web.Request, request)
    if (http.content_length or 0) > limit:
        raise _too_large(limit)
    try:
        return await _parts(await http.multipart(), file_limit, limit, field_limit)
    except (HttpProcessingError, AssertionError, ValueError, KeyError) as exc:
        if isinstance(exc, BodyError):
            raise
        raise BodyError(
            "not a multipart form", errors=[{"loc": "(body)", "msg": str(exc) or "unreadable"}]
        ) from exc


async def _parts(
    reader: Any, file_limit: int, limit: int, field_limit: int
) -> tuple[Form, list[Upload]]:
    pairs: list[tuple[str, str]] = []
    files: list[Upload] = []
    total = fields = 0
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or len(pairs) + len(files) >= MAX_FIELDS:
            raise BodyError(
                "form is not valid", errors=[{"loc": "(body)", "msg": "too many parts"}]
            )
        if part.filename is not None:
            data, total = await _read_part(part, file_limit + 1, total, limit)
            if part.filename or data:
                files.append(Upload(part.filename, data))
            continue
        value, total = await _read_part(part, field_limit + 1, total, limit)
        fields += len(value)
        if fields > field_limit:
            raise _too_large(field_limit)
        name = part.name or ""
        try:
            pairs.append((name, value.decode("utf-8")))
        except UnicodeDecodeError as exc:
            raise BodyError(
                "form is not UTF-8", errors=[{"loc": name or "(body)", "msg": str(exc)}]
            ) from exc
    return Form(pairs), files
