"""Signals for monitoring systems: /metrics in the Prometheus text format (prometheus_client).

Read at scrape time from the queue database and the server's activity (queue depth, oldest age,
dead letters, order polling lag, reachability, the last reconciliation's differences); counted as
work happens (messages settled per entity and outcome, hook events per kind, every shop and ERP call's
duration and errors, through `Timed`). One registry per server.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily

from .activity import Activity
from .queue.store import QueueStore


class Metrics:
    def __init__(self, store: QueueStore, activity: Activity) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.settled = Counter("shopsync_messages_settled", "Messages settled, by entity (message kind) and "
                               "outcome", ["queue", "entity", "outcome"], registry=self.registry)
        self.hooks = Counter("shopsync_hook_events", "ERP events the hooks reported, by event",
                             ["event"], registry=self.registry)
        self.calls = Histogram("shopsync_call_duration_seconds", "Calls to the shop and the ERP, by side and call",
                               ["side", "call"], registry=self.registry,
                               buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.call_errors = Counter("shopsync_call_errors", "Calls to the shop and the ERP that failed, by side, "
                                   "call and error", ["side", "call", "error"], registry=self.registry)
        self.feed_changes = Counter("shopsync_erp_feed_changes", "Changes the ERP's change feeds reported, by feed "
                                    "and result (queued: content changed; unchanged: nothing to send)",
                                    ["feed", "result"], registry=self.registry)
        self.registry.register(_StateCollector(store, activity))


class _StateCollector:
    """What is true now, read at every scrape."""

    def __init__(self, store: QueueStore, activity: Activity) -> None:
        self.store, self.activity = store, activity

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily("shopsync_queue_depth", "Messages in a queue, by state", labels=["queue", "state"])
        oldest = GaugeMetricFamily("shopsync_queue_oldest_age_seconds", "Age of the oldest message waiting in a "
                                   "queue (0: none waiting)", labels=["queue"])
        dead = GaugeMetricFamily("shopsync_dead_letters", "Dead letters waiting for a person", labels=["queue"])
        for s in self.store.stats():
            depth.add_metric([s.queue, "pending"], s.pending)
            depth.add_metric([s.queue, "in_flight"], s.in_flight)
            oldest.add_metric([s.queue], round(s.oldest_age_seconds, 3))
            dead.add_metric([s.queue], s.dead)
        yield from (depth, oldest, dead)
        lag = GaugeMetricFamily("shopsync_order_poll_lag_seconds", "Seconds since the shop's orders were last "
                                "polled (since the start while never)")
        now = self.activity.clock()
        lag.add_metric([], round(now - (self.activity.last_poll or self.activity.started), 3))
        yield lag
        if self.activity.last_feed_read:
            feed_lag = GaugeMetricFamily("shopsync_erp_feed_lag_seconds", "Seconds since the ERP's change feeds "
                                         "were last read whole (present once they have been)")
            feed_lag.add_metric([], round(now - self.activity.last_feed_read, 3))
            yield feed_lag
        up = GaugeMetricFamily("shopsync_reachable", "1 when the side answered when last asked", labels=["side"])
        for side, r in self.activity.reachability().items():
            if r.ok is not None:
                up.add_metric([side], 1 if r.ok else 0)
        yield up
        diff = GaugeMetricFamily("shopsync_reconciliation_differences", "What the last reconciliation found "
                                 "different in the shop and corrected, by field", labels=["field"])
        run = self.activity.pass_run("reconciliation")
        for name, n in ((run.progress.get("corrections") or {}) if run else {}).items():
            diff.add_metric([name], n)
        yield diff


class Timed:
    """The shop client or the ERP, with each public call timed and its failures counted."""

    def __init__(self, target: Any, side: str, metrics: Metrics) -> None:
        self._target, self._side, self._metrics = target, side, metrics

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name.startswith("_") or not callable(attr):
            return attr
        return self._timed(name, attr)

    def _timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                self._metrics.call_errors.labels(self._side, name, type(exc).__name__).inc()
                raise
            finally:
                self._metrics.calls.labels(self._side, name).observe(time.perf_counter() - start)
        return call

    @property
    def target(self) -> Any:
        return self._target
