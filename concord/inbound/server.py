"""The inbound SMTP server (aiosmtpd), served on the worker's own event loop.

Started by `concord up` and by `concord worker --inbound` when `CONCORD_INBOUND_PORT` is
set; behind the city's mail relay in production (docs/inbound.md).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP

from concord.config.settings import Settings
from concord.inbound.replies import Replies

log = logging.getLogger(__name__)


async def serve(replies: Replies, settings: Settings) -> None:
    """Listen until the worker stops."""
    loop = asyncio.get_running_loop()

    def protocol() -> Any:
        return SMTP(
            replies,
            hostname=replies.domain,
            ident="Concord",
            data_size_limit=settings.inbound_max_bytes,
            enable_SMTPUTF8=True,
        )

    server = await loop.create_server(protocol, settings.inbound_host, settings.inbound_port)
    log.warning(
        "mail in on %s:%d for task+...@%s",
        settings.inbound_host,
        settings.inbound_port,
        replies.domain,
    )
    try:
        await asyncio.Event().wait()
    finally:
        server.close()
