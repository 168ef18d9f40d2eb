"""Prometheus metrics, on a registry made per app (no import-time globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    """Counters of the flow; served at `/metrics`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.signals = Counter(
            "concord_signals_total", "Signals by intake outcome", ["outcome"], registry=r
        )
        self.deadletters = Counter(
            "concord_deadletters_total",
            "Records sent to the dead-letter topic",
            ["reason"],
            registry=r,
        )
        self.stage_failures = Counter(
            "concord_stage_failures_total",
            "Records a stage could not process (dead-lettered with the stage and reason)",
            ["stage"],
            registry=r,
        )
        self.stage_busy = Counter(
            "concord_stage_busy_seconds_total",
            "Time each stage spent handling records (busy / wall time = its saturation)",
            ["stage"],
            registry=r,
        )
        self.stage_records = Counter(
            "concord_stage_records_total", "Records each stage handled", ["stage"], registry=r
        )
        self.stage_batch = Histogram(
            "concord_stage_batch_records",
            "Records each stage took as one batch",
            ["stage"],
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.situations = Counter(
            "concord_situation_updates_total", "Situation snapshots", registry=r
        )
        self.playbooks_fired = Counter(
            "concord_playbooks_fired_total", "Playbooks fired", ["playbook"], registry=r
        )
        self.tasks = Counter("concord_tasks_created_total", "Tasks created", registry=r)
        self._delivery(r)
        self._panel(r)

    def _delivery(self, r: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "concord_delivery_attempts_total",
            "Delivery attempts",
            ["channel", "outcome"],
            registry=r,
        )
        self.delivery_queue = Gauge(
            "concord_delivery_queue",
            "Messages not delivered yet (waiting, in flight or scheduled for a retry)",
            ["channel"],
            registry=r,
        )
        self.delivery_oldest = Gauge(
            "concord_delivery_oldest_pending_seconds",
            "Age of the oldest message not delivered yet",
            ["channel"],
            registry=r,
        )
        self.delivery_latency = Histogram(
            "concord_delivery_latency_seconds",
            "From posting a message to the carrier accepting it",
            ["channel"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
            registry=r,
        )

    def _panel(self, r: CollectorRegistry) -> None:
        self.reviews = Counter(
            "concord_reviews_total",
            "Panel reviews by outcome (opened, approved, rejected, no_quorum, stalled)",
            ["outcome"],
            registry=r,
        )
        self.votes = Counter(
            "concord_votes_total", "Panel votes by decision", ["decision"], registry=r
        )
        self.playbooks_loaded = Gauge("concord_playbooks_loaded", "Playbooks live", registry=r)
        self.stalled_partitions = Gauge(
            "concord_stalled_partitions",
            "Partitions with records waiting and no progress past the watchdog threshold",
            registry=r,
        )
        self.stalls = Counter(
            "concord_stalls_total",
            "Times a partition was found stalled (it had not been at the look before)",
            registry=r,
        )
        self.playbook_reloads = Counter(
            "concord_playbook_reloads_total",
            "Playbook reloads by outcome (applied, refused)",
            ["outcome"],
            registry=r,
        )
