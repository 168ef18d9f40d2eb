"""The delivery pipeline: channels in order, retries with backoff, fallback, receipts.

Like Alertmanager's notify pipeline, a delivery is a few small stages: pick the
channels the recipient can be reached on, try each with retries (honouring the
carrier's Retry-After), fall back to the next channel when one gives up, and record a
Receipt for every attempt. Nothing is silently dropped: a delivery that fails on every
channel returns only failed receipts, which the dispatch agent records and audits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from concord.notifiers.base import Message, SendError
from concord.notifiers.registry import Registry
from concord.streams.models import Receipt

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        backoff = min(self.cap, self.base * 2 ** (attempt - 1))
        return max(backoff, retry_after or 0.0)


def channels_for(registry: Registry, preferred: Sequence[str], message: Message) -> list[str]:
    """Preferred channels first, then any other registered one, that can reach the recipient."""
    order = list(dict.fromkeys([*preferred, *(n.channel for n in registry)]))
    out = []
    for channel in order:
        notifier = registry.get(channel)
        if notifier is not None and notifier.can_reach(message.recipient):
            out.append(channel)
    return out


async def deliver(
    message: Message,
    task_id: str,
    registry: Registry,
    preferred: Sequence[str],
    policy: RetryPolicy,
    sleep: Sleep,
    on_receipt: Callable[[Receipt], Awaitable[None]] | None = None,
) -> list[Receipt]:
    """Deliver on the first channel that works; return every attempt's receipt."""
    receipts: list[Receipt] = []

    async def record(receipt: Receipt) -> None:
        receipts.append(receipt)
        if on_receipt is not None:
            await on_receipt(receipt)

    channels = channels_for(registry, preferred, message)
    if not channels:
        await record(
            Receipt(
                task_id=task_id,
                channel="none",
                recipient=message.recipient.id,
                attempt=0,
                ok=False,
                error="no configured channel can reach this recipient",
                exercise=message.exercise,
            )
        )
        return receipts
    for channel in channels:
        notifier = registry.get(channel)
        assert notifier is not None
        for attempt in range(1, policy.attempts + 1):
            try:
                sent = await notifier.send(message)
            except SendError as exc:
                await record(
                    Receipt(
                        task_id=task_id,
                        channel=channel,
                        recipient=message.recipient.id,
                        attempt=attempt,
                        ok=False,
                        retryable=exc.retryable,
                        error=str(exc),
                        exercise=message.exercise,
                    )
                )
                if not exc.retryable or attempt == policy.attempts:
                    break  # fall back to the next channel
                await sleep(policy.delay(attempt, exc.retry_after))
                continue
            await record(
                Receipt(
                    task_id=task_id,
                    channel=channel,
                    recipient=message.recipient.id,
                    attempt=attempt,
                    ok=True,
                    provider_id=sent.provider_id,
                    exercise=message.exercise,
                )
            )
            return receipts
    return receipts
