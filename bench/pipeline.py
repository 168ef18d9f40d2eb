"""Concord's pipeline against a bare Faust agent, on the same broker, in one run.

- Bare Faust: one agent forwarding N JSON records from one topic to another, one at a
  time (the floor of what any Faust stage costs here).
- Concord: N signals produced to `concord.signals.in` (raw, as Kafka producers send
  them), each in its own area with one Slack task, through intake, correlation,
  decisions, planning and the track stage, until each task is handed to the delivery
  stage (its request on `concord.outgoing`).

Prints records/s for both (and the worker's CPU seconds and peak memory) and the ratio,
then the record budget: once every task's message is delivered (its state on
`concord.delivery-state` says so), every record Concord wrote for the N signals, per topic
(`records_per_signal`, and one line per hop). The common path: one situation, one task,
one Slack message per signal.
Usage: [BENCH_STORE=rocksdb://] python bench/pipeline.py [N]
(`BENCH_STORE`: the worker's table store, `memory://` unless given; production's is
`rocksdb://`. The bare Faust agent keeps no table either way.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import EmbeddedBroker, Stack, cpu, free_port, line, rss_peak_mb

BARE = textwrap.dedent(
    """
    import faust, sys
    app = faust.App(
        sys.argv[1], broker=sys.argv[2], store="memory://", web_port=int(sys.argv[3]),
        web_bind="127.0.0.1", broker_session_timeout=6,
        consumer_auto_offset_reset="earliest", topic_partitions=4,
    )
    source = app.topic("bench.in", value_serializer="json", partitions=4)
    sink = app.topic("bench.out", value_serializer="json", partitions=4)

    @app.agent(source)
    async def forward(stream):
        async for value in stream:
            await sink.send(key=str(value["id"]), value=value)

    if __name__ == "__main__":
        sys.argv = [sys.argv[0], "worker", "-l", "warn"]
        app.main()
    """
)


def count(bootstrap: str, topic: str, wanted: int, timeout: float) -> float:
    """Consume `topic` until `wanted` records; returns when the last one was written."""
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    seen, last = 0, 0.0
    deadline = time.monotonic() + timeout
    try:
        while seen < wanted and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=200).values():
                for record in records:
                    sent = record.value and b'"action":"send"' in record.value
                    if sent or topic == "bench.out":
                        seen += 1
                        last = max(last, record.timestamp / 1000)
    finally:
        consumer.close()
    if seen < wanted:
        raise TimeoutError(f"{seen}/{wanted} records on {topic}")
    return last


#: py-spy: 200 samples a second, written to
RATE = ("--rate", "200", "-o")


def profile(pid: int) -> tuple[subprocess.Popen[bytes], Path] | None:
    """py-spy on the worker while the signals go through, when `CONCORD_BENCH_PYSPY` names
    its binary (py-spy is not a dependency: it needs ptrace, which CI may not allow)."""
    binary = os.environ.get("CONCORD_BENCH_PYSPY")
    if not binary:
        return None
    out = Path(tempfile.mkdtemp()) / "worker.txt"
    proc = subprocess.Popen(
        [
            binary,
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--full-filenames",
            *RATE,
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)  # attached before the first signal
    return proc, out


def top_frames(
    spy: tuple[subprocess.Popen[bytes], Path], bench: str = "pipeline", most: int = 15
) -> None:
    """Stop py-spy and print the frames the worker spent most samples in (self time), and
    the share of samples under each of Concord's packages and the libraries."""
    import signal as signals

    proc, out = spy
    proc.send_signal(signals.SIGINT)
    proc.wait(30)
    own: dict[str, int] = {}
    under: dict[str, int] = {}
    total = 0
    for row in out.read_text().splitlines():
        stack, _, count_ = row.rpartition(" ")
        samples = int(count_)
        frames = stack.split(";")
        total += samples
        leaf = frames[-1].split(" (")[0] + " (" + frames[-1].rsplit("/", 1)[-1]
        own[leaf] = own.get(leaf, 0) + samples
        for key in {_owner(f) for f in frames}:
            under[key] = under.get(key, 0) + samples
    for frame, samples in sorted(own.items(), key=lambda x: -x[1])[:most]:
        line(bench=bench, metric="profile_self", frame=frame, share=round(samples / total, 3))
    for key, samples in sorted(under.items(), key=lambda x: -x[1])[:most]:
        line(bench=bench, metric="profile_under", package=key, share=round(samples / total, 3))


def _owner(frame: str) -> str:
    """`concord/<package>` or the library a frame is in."""
    path = frame.rsplit("(", 1)[-1]
    if "/concord/" in path and "site-packages" not in path:
        parts = path.split("/concord/", 1)[1].split("/")
        return "concord/" + (parts[0] if len(parts) > 1 else "")
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1].split("/")[0]
    return "python"


def census(bootstrap: str, quiet: float = 3.0) -> dict[str, tuple[int, int]]:
    """Every record on every topic, read to the end (Tansu's end offsets undercount):
    topic -> (records, bytes of their values), once no new record came for `quiet`
    seconds."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    topics = sorted(t for t in consumer.topics() if not t.startswith("__"))
    consumer.subscribe(topics)
    found = dict.fromkeys(topics, (0, 0))
    idle_since = time.monotonic()
    try:
        while time.monotonic() - idle_since < quiet:
            batch = consumer.poll(timeout_ms=300)
            for tp, records in batch.items():
                count, size = found[tp.topic]
                size += sum(len(r.value or b"") for r in records)
                found[tp.topic] = (count + len(records), size)
            if batch:
                idle_since = time.monotonic()
    finally:
        consumer.close()
    return found


def bare(n: int, sample: list[bytes]) -> dict[str, float]:
    with EmbeddedBroker() as broker:
        admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
        admin.create_topics([NewTopic("bench.in", 4, 1), NewTopic("bench.out", 4, 1)])
        admin.close()
        script = Path(tempfile.mkdtemp()) / "bare.py"
        script.write_text(BARE)
        proc = subprocess.Popen(
            [
                sys.executable,
                str(script),
                f"bare-{uuid.uuid4().hex[:6]}",
                broker.url,
                str(free_port()),
            ],
            cwd=script.parent,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            producer = KafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=False)
            producer.send("bench.in", key=b"warm", value=json.dumps({"id": "warm"}).encode())
            producer.flush()
            count(broker.bootstrap, "bench.out", 1, timeout=120)
            c0, t0 = cpu(proc.pid), time.time()
            for raw in sample[:n]:
                producer.send("bench.in", key=b"k", value=raw)
            producer.flush()
            last = count(broker.bootstrap, "bench.out", n + 1, timeout=300)
            return {
                "per_s": n / (last - t0),
                "cpu": cpu(proc.pid) - c0,
                "peak_mb": rss_peak_mb(proc.pid),
            }
        finally:
            proc.terminate()
            proc.wait(20)


#: The worker's table store (`BENCH_STORE`).
STORE = os.environ.get("BENCH_STORE", "memory://")


def concord(n: int) -> tuple[dict[str, float], list[bytes]]:
    pacing_off = {"slack_channel_interval_seconds": "0", "slack_workspace_rate": "0"}
    with Stack(n, 1, store=STORE, **pacing_off) as s:
        signals = [json.dumps(s.signal(i)).encode() for i in range(n)]
        producer = KafkaProducer(bootstrap_servers=s.broker.bootstrap, enable_idempotence=False)
        assert s.proc is not None
        spy = profile(s.proc.pid)
        c0, t0 = cpu(s.proc.pid), time.time()
        for raw in signals:
            producer.send("concord.signals.in", key=b"k", value=raw)
        producer.flush()
        last = count(s.broker.bootstrap, "concord.outgoing", n, timeout=600)
        if spy is not None:
            top_frames(spy)
        took = last - t0
        figures = {
            "per_s": n / took,
            "cpu": cpu(s.proc.pid) - c0,
            "peak_mb": s.peak_mb(),
        }
        delivered(s.broker.bootstrap, n)
        records = census(s.broker.bootstrap)
        budget = {t: c for t, c in records.items() if c[0]}
        line(
            bench="pipeline",
            metric="records_per_signal",
            value=round(sum(c for c, _ in budget.values()) / n, 2),
            unit="records/signal",
            bytes_per_signal=round(sum(b for _, b in budget.values()) / n),
            n=n,
        )
        for topic, (c, b) in sorted(budget.items(), key=lambda x: -x[1][0]):
            line(
                bench="pipeline",
                metric="records_per_hop",
                topic=topic,
                value=round(c / n, 2),
                bytes_per_record=round(b / c),
            )
        return figures, signals


def delivered(bootstrap: str, n: int) -> None:
    """Wait until `n` messages are delivered (their state on `concord.delivery-state`)."""
    consumer = KafkaConsumer(
        "concord.delivery-state", bootstrap_servers=bootstrap, auto_offset_reset="earliest"
    )
    done: set[bytes] = set()
    deadline = time.monotonic() + 600
    try:
        while len(done) < n and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=300).values():
                done.update(r.key for r in records if r.key and is_delivered(r.value))
    finally:
        consumer.close()


def is_delivered(value: bytes | None) -> bool:
    """Whether a `concord.delivery-state` record says its message was delivered."""
    return value is not None and b'"state":"delivered"' in value


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    cc, signals = concord(n)
    line(
        bench="pipeline",
        system="concord",
        metric="signals_per_s",
        value=round(cc["per_s"], 1),
        unit="1/s",
        n=n,
        store=STORE,
        cpu_ms_per_item=round(1000 * cc["cpu"] / n, 2),
        peak_mb=round(cc["peak_mb"], 1),
    )
    fa = bare(n, signals)
    line(
        bench="pipeline",
        system="bare_faust",
        metric="records_per_s",
        value=round(fa["per_s"], 1),
        unit="1/s",
        n=n,
        cpu_ms_per_item=round(1000 * fa["cpu"] / n, 2),
        peak_mb=round(fa["peak_mb"], 1),
    )
    line(
        bench="pipeline",
        metric="ratio",
        value=round(cc["per_s"] / fa["per_s"], 3),
        unit="concord/bare_faust",
        n=n,
    )


if __name__ == "__main__":
    main()
