"""Operational pages: `/healthz`, `/metrics`, `/outbox` (embedded mode only)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from faust.web import Request, Response, View
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from prometheus_client import generate_latest

from concord.web.readmodel import ReadModel

if TYPE_CHECKING:
    from concord.app import Concord

TEMPLATES = Path(__file__).parent / "templates"
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
            return self.json(
                {
                    "status": "ok" if ready else "starting",
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

    if c.outbox is not None:
        outbox = c.outbox

        @c.app.page("/outbox")
        class OutboxView(View):
            async def get(self, request: Request) -> Response:
                html = env.get_template("outbox.html").render(
                    emails=outbox.emails(), slack=outbox.slack()
                )
                return self.html(html)
