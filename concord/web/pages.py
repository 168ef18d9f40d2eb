"""Operational pages: `/healthz`, `/metrics`, `/outbox` (embedded mode only), `/static/`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import faust
from faust.web import Request, Response
from prometheus_client import generate_latest

from concord.common.types import utcnow
from concord.embedded.outbox import Outbox, headline
from concord.notifiers.registry import Registry
from concord.web.security import loopback
from concord.web.session import current_session
from concord.web.site import Site, bind, bytes_response, error, json_response, route
from concord.worker.live import LivePlaybooks

STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
CONTENT_TYPE = "text/plain; version=0.0.4"


@dataclass(frozen=True)
class Operations:
    """What the operational pages report on."""

    site: Site
    playbooks: LivePlaybooks
    registry: Registry


async def health(ops: Operations, request: Request) -> Response:
    """`GET /healthz`: 200 once the worker has its partitions and the read model runs
    (`status` ok, or degraded with why), 503 before."""
    h, model = ops.site.flow.health, ops.site.readmodel
    ready = h.ready and model.running
    # A stage that dead-lettered a record it failed on still serves (the record waits in
    # concord.deadletter for a fix and a replay), but says so.
    failing = {
        stage: {"records": n, "last": at.isoformat()}
        for stage, (n, at) in sorted(h.failures.items())
    }
    carriers = h.degraded(utcnow())
    stalled = dict(h.stalled)
    status = "starting" if not ready else "degraded" if failing or carriers else "ok"
    if ready and stalled:
        status = "stalled"  # records wait and nothing moves: a supervisor should act
    if not h.broker:
        status = "broker_unreachable"
    current = ops.playbooks.current.playbooks
    return json_response(
        {
            "status": status,
            "stage_failures": failing,
            "degraded_carriers": carriers,
            "stalled_partitions": stalled,
            "broker": h.broker,
            "worker": h.ready,
            "read_model": model.running,
            "playbooks": len(current),
            "playbook_versions": {p.id: p.version for p in current},
            "channels": sorted(n.channel for n in ops.registry),
        },
        200 if ready and not stalled and h.broker else 503,
    )


async def metrics(site: Site, request: Request) -> Response:
    """`GET /metrics`: Prometheus text."""
    # aiohttp refuses a charset inside content_type; Prometheus text is ASCII.
    return bytes_response(generate_latest(site.flow.metrics.registry), CONTENT_TYPE)


async def static(files: dict[str, bytes], request: Request, name: str) -> Response:
    """`GET /static/{name}`: the pages' stylesheet and scripts."""
    found = files.get(name)
    if found is None:
        return error(404, "no such file")
    kind = STATIC_TYPES[Path(name).suffix]
    return bytes_response(found, kind, headers={"Cache-Control": "max-age=3600"})


def shown(payload: object) -> str:
    """A JSON request as the outbox shows it."""
    return json.dumps(payload, indent=2, ensure_ascii=False)


#: The channels of the stand-in, as the outbox names them.
CHAT_CHANNELS = {
    "teams": "Microsoft Teams",
    "matrix": "Matrix",
    "mattermost": "Mattermost",
    "rocketchat": "Rocket.Chat",
    "webhook": "Webhooks",
}


async def outbox_page(site: Site, outbox: Outbox, request: Request) -> Response:
    """`GET /outbox`: what the embedded SMTP server, Slack API and chat stand-in received."""
    # Every sign-in, vote and task link passes through here: only this machine, by its
    # loopback name, or a signed-in coordinator sees it.
    session = current_session(site, request)
    if not loopback(request) and (session is None or session.role != "coordinator"):
        return error(403, "the outbox is shown on this machine only (127.0.0.1)")
    posts = [
        (p, headline(p), p.payload if isinstance(p.payload, str) else shown(p.payload))
        for p in reversed(outbox.posts())
    ]
    return site.pages.render(
        "outbox.html",
        emails=outbox.emails(),
        slack=outbox.slack(),
        posts=posts,
        channels=CHAT_CHANNELS,
    )


def register(app: faust.App, ops: Operations, outbox: Outbox | None) -> None:
    """Bind the operational pages (`/outbox` only with the embedded servers)."""
    route(app, "/healthz", get=bind(health, ops))
    route(app, "/metrics", get=bind(metrics, ops.site))
    files = {p.name: p.read_bytes() for p in STATIC.iterdir() if p.suffix in STATIC_TYPES}
    route(app, "/static/{name}", get=bind(static, files))
    if outbox is not None:
        route(app, "/outbox", get=bind(outbox_page, ops.site, outbox))
