"""Carrier outages: does one carrier's trouble hold back another, is anything abandoned?

Phase 1, SMTP down: SMTP refuses every connection for 60 s; 20 signals each give one
email-only and one Slack-only task. Measured: Slack tasks delivered while SMTP is down
(and how fast), emails delivered after SMTP is back (and how fast), duplicates, and
messages abandoned (failed for good).
Phase 2, Slack in trouble: Slack answers 429 (Retry-After: 1) to five calls, then 500
to five more; 20 Slack tasks. Measured: delivered, duplicates, abandoned, how long.

The Slack pacing per channel is off (one channel takes every message here; Slack's own
rule is about one a second per channel). Default retry schedule otherwise.
Usage: python bench/faults.py [SECONDS_DOWN]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import Stack, line, wait


def abandoned(s: Stack, tasks: set[str]) -> int:
    """Task messages whose delivery failed for good (the task is `failed`)."""
    failed = 0
    for record in s.delivery_states().values():
        if record.get("subject") in tasks and record.get("state") == "failed":
            failed += 1
    return failed


def smtp_down(seconds: float) -> None:
    with Stack(areas=100, slack_channel_interval_seconds="0") as s:
        signals = [s.signal(i, tags=["pair"]) for i in range(20)]
        mails = {s.task(x, "pair", "mail") for x in signals}
        chats = {s.task(x, "pair", "chat") for x in signals}
        s.smtp_down()
        t0 = time.time()
        status, body = s.request("POST", "/api/signals", signals)
        assert status == 202, body
        seen = wait(lambda: (k := s.slack_keys()) and chats <= set(k) and k, timeout=seconds)
        slack_s = max(seen[t] for t in chats) - t0
        while time.time() - t0 < seconds:  # the rest of the outage
            time.sleep(0.2)
        mailed_during = len(mails & set(s.mail_counts()))
        back = time.time()
        s.smtp_up()
        wait(lambda: mails <= set(s.mail_counts()), timeout=600, interval=0.2)
        mail_s = time.time() - back
        time.sleep(2)  # anything sent twice would have arrived by now
        mail_dup = sum(n - 1 for k, n in s.mail_counts().items() if k in mails)
        slack_dup = sum(n - 1 for k, n in s.slack_counts().items() if k in chats)
        line(
            bench="faults",
            phase="smtp_down",
            metric="slack_delivered_while_smtp_down",
            value=len(chats & set(seen)),
            of=len(chats),
            slack_seconds=round(slack_s, 2),
            target_slack_seconds=5,
            emails_before_smtp_back=mailed_during,
            emails_delivered=len(mails & set(s.mail_counts())),
            email_seconds_after_smtp_back=round(mail_s, 2),
            target_email_seconds=30,
            duplicates=mail_dup + slack_dup,
            abandoned=abandoned(s, mails | chats),
            smtp_down_seconds=seconds,
            peak_mb=round(s.peak_mb(), 1),
        )


def slack_trouble() -> None:
    with Stack(areas=100, slack_channel_interval_seconds="0") as s:
        s.slack.fail_next(5, "ratelimited", status=429, retry_after=1, channel="C-BENCH")
        s.slack.fail_next(5, "internal_error", status=500, channel="C-BENCH")
        signals = [s.signal(i) for i in range(20)]
        chats = {s.task(x) for x in signals}
        t0 = time.time()
        status, body = s.request("POST", "/api/signals", signals)
        assert status == 202, body
        seen = wait(lambda: (k := s.slack_keys()) and chats <= set(k) and k, timeout=600)
        took = max(seen[t] for t in chats) - t0
        time.sleep(2)
        dup = sum(n - 1 for k, n in s.slack_counts().items() if k in chats)
        line(
            bench="faults",
            phase="slack_429_then_500",
            metric="slack_delivered",
            value=len(chats & set(seen)),
            of=len(chats),
            seconds=round(took, 2),
            duplicates=dup,
            abandoned=abandoned(s, chats),
            peak_mb=round(s.peak_mb(), 1),
        )


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    smtp_down(seconds)
    slack_trouble()


if __name__ == "__main__":
    main()
