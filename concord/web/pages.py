"""Operational pages: `/healthz`, `/metrics`, `/outbox` (embedded mode only), `/static/`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from faust.web import Request, Response, View
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from prometheus_client import generate_latest

from concord.types import utcnow
from concord.web.readmodel import ReadModel
from concord.web.security import loopback
from concord.web.session import current_session

if TYPE_CHECKING:
    from concord.app import Concord

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
CONTENT_TYPE = "text/plain; version=0.0.4"


def register(c: Concord, view: ReadModel) -> None:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
    )

    @c.app.page("/healthz")
    class Health(View):
        async def get(self, request: Request) -> Response:
            ready = c.ready and view.running
            # A stage that dead-lettered a record it failed on still serves (the record
            # waits in concord.deadletter for a fix and a replay), but says so.
            failing = {
                stage: {"records": n, "last": at.isoformat()}
                for stage, (n, at) in sorted(c.failures.items())
            }
            carriers = c.delivery.degraded(utcnow()) if c.delivery is not None else {}
            status = "starting" if not ready else "degraded" if failing or carriers else "ok"
            return self.json(
                {
                    "status": status,
                    "stage_failures": failing,
                    "degraded_carriers": carriers,
                    "worker": c.ready,
                    "read_model": view.running,
                    "playbooks": len(c.playbooks.current.playbooks),
                    "playbook_versions": {p.id: p.version for p in c.playbooks.current.playbooks},
                    "channels": sorted(n.channel for n in c.registry),
                },
                status=200 if ready else 503,
            )

    @c.app.page("/metrics")
    class MetricsView(View):
        async def get(self, request: Request) -> Response:
            # aiohttp refuses a charset inside content_type; Prometheus text is ASCII.
            return self.bytes(generate_latest(c.metrics.registry), content_type=CONTENT_TYPE)

    files = {p.name: p.read_bytes() for p in STATIC.iterdir() if p.suffix in STATIC_TYPES}

    @c.app.page("/static/{name}")
    class Static(View):
        async def get(self, request: Request, name: str) -> Response:
            body = files.get(name)
            if body is None:
                return self.json({"error": "no such file"}, status=404)
            kind = STATIC_TYPES[Path(name).suffix]
            return self.bytes(body, content_type=kind, headers={"Cache-Control": "max-age=3600"})

    if c.outbox is not None:
        outbox = c.outbox

        @c.app.page("/outbox")
        class OutboxView(View):
            async def get(self, request: Request) -> Response:
                # Every sign-in, vote and task link passes through here: only this
                # machine, by its loopback name, or a signed-in coordinator sees it.
                session = current_session(c, view, request)
                if not loopback(request) and (session is None or session.role != "coordinator"):
                    return self.json(
                        {"error": "the outbox is shown on this machine only (127.0.0.1)"},
                        status=403,
                    )
                html = env.get_template("outbox.html").render(
                    emails=outbox.emails(), slack=outbox.slack()
                )
                return self.html(html, headers={"Cache-Control": "no-store"})
