"""What reports say, opened for one signed-in reader and audited.

A situation keeps each signal's scrubbed summary sealed under the signal's data key
(`concord.core.intake.seal`), so an erasure takes it away from every copy. Pages and
the API open it here, for a reader who may see the situation (a coordinator, a panel
member, an operator) or a task of it (its liaison). Every opening is an audit entry:
who read which reports, where. The summary as written, with names, is the task page's
(`concord.web.persons`), at the `full` sharing level only.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from concord.privacy.keys import Erased, SealError
from concord.streams.situations import SignalRef
from concord.web.site import Site

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Said:
    """What one report says, for one reader: its scrubbed text, or that it is erased."""

    signal_id: str
    text: str | None = None
    erased: bool = False


def open_one(site: Site, ref: SignalRef) -> Said:
    """The scrubbed summary of one signal (not audited: `read` is)."""
    if ref.id in site.readmodel.erased or ref.summary_sealed is None:
        return Said(ref.id, erased=ref.id in site.readmodel.erased)
    try:
        text = site.flow.sealer.open(ref.summary_sealed, site.readmodel.keys).decode()
    except Erased:  # its key is gone (the audit entry may not be read yet)
        return Said(ref.id, erased=True)
    except (SealError, UnicodeDecodeError):
        log.error("the text of signal %s cannot be opened with its data key", ref.id)
        return Said(ref.id)
    return Said(ref.id, text)


async def read(
    site: Site, refs: Iterable[SignalRef], reader: str, subject: str, via: str
) -> dict[str, Said]:
    """The scrubbed summaries of these signals for `reader`, by signal id; one audit
    entry names the reports opened (`reports.read`, on `subject`: a situation or task)."""
    said = {ref.id: open_one(site, ref) for ref in refs}
    opened = [s.signal_id for s in said.values() if s.text is not None]
    if opened:
        await site.flow.audit_view(
            reader, "reports.read", subject, via=via, signals=",".join(opened)
        )
    return said
