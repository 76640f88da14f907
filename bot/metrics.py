"""What an operator watches, in Prometheus format. Labels never carry numbers or message text:
intents, languages and outcomes are small fixed sets."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CONTENT_TYPE_LATEST as CONTENT_TYPE
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.metrics_core import Metric

__all__ = ["CONTENT_TYPE", "Metrics", "listen", "split_address"]

# A *_created series carries the moment a label set was first seen, to the microsecond: on a
# quiet line, when someone's first emergency or side-effects question arrived.
disable_created_metrics()  # type: ignore[no-untyped-call]

# Time from a callback request to its close: minutes to days.
CLOSE_BUCKETS = tuple(m * 60.0 for m in (15, 30, 60, 120, 240, 480, 1440, 2880, 4320))
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = registry or CollectorRegistry()
        self._children: dict[tuple[str, str, str], tuple[Any, Any, Any]] = {}
        self.messages = Counter(
            "smsbot_messages",
            "Inbound messages by what they asked for and the reply language.",
            ["intent", "language"],
            registry=self.registry,
        )
        self.replies = Counter(
            "smsbot_replies",
            "Answers by outcome: ok, duplicate (a retry), stateless (store unavailable), "
            "contended (not saved: the sender's messages kept racing each other).",
            ["outcome"],
            registry=self.registry,
        )
        self.sms = Counter(
            "smsbot_sms", "SMS sent in replies.", ["language"], registry=self.registry
        )
        self.latency = Histogram(
            "smsbot_message_seconds",
            "Time to answer one message, store included.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.store_errors = Counter(
            "smsbot_store_errors",
            "Session store calls that failed or timed out.",
            ["operation"],
            registry=self.registry,
        )
        self.opt_outs = Counter("smsbot_opt_outs", "Senders who opted out.", registry=self.registry)
        self.opt_ins = Counter(
            "smsbot_opt_ins", "Senders who opted back in.", registry=self.registry
        )
        self.round_trips = Counter(
            "smsbot_store_round_trips",
            "Round trips to the session store (a pipeline or a script counts once).",
            registry=self.registry,
        )
        self.refused = Counter(
            "smsbot_webhook_refused",
            "Webhook requests refused before any processing.",
            ["reason"],
            registry=self.registry,
        )

        self._callback_metrics()

    def _callback_metrics(self) -> None:
        """The nurse callback queue. The gauges describe the one shared queue: each worker sets
        them from Redis when scraped, and the most recent value is the one reported."""
        self.callbacks_open = Gauge(
            "smsbot_callbacks_open",
            "Callback requests waiting for a nurse.",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.callback_oldest = Gauge(
            "smsbot_callbacks_oldest_open_seconds",
            "How long the oldest open callback request has waited (0 when none is open).",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.callback_target = Gauge(
            "smsbot_callbacks_target_seconds",
            "CALLBACK_TARGET_MINUTES: the longest a request should wait, in seconds.",
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.callback_requests = Counter(
            "smsbot_callback_requests",
            "Callback requests made (asking again for an open one is not counted).",
            registry=self.registry,
        )
        self.callback_outcomes = Counter(
            "smsbot_callback_outcomes",
            "Closed callback requests: reached, no_answer (after the last try), wrong_number, "
            "cancelled (by a nurse), withdrawn (by the patient: NOCALL, STOP, FORGET), expired.",
            ["outcome"],
            registry=self.registry,
        )
        self.callback_close_seconds = Histogram(
            "smsbot_callback_close_seconds",
            "Time from a callback request to its close.",
            buckets=CLOSE_BUCKETS,
            registry=self.registry,
        )

    def observe(self, intent: str, language: str, outcome: str, sms: int, seconds: float) -> None:
        """One handled message. Label lookups are cached: this runs for every text."""
        key = (intent, language, outcome)
        children = self._children.get(key)
        if children is None:
            children = (
                self.messages.labels(intent, language),
                self.replies.labels(outcome),
                self.sms.labels(language),
            )
            self._children[key] = children
        children[0].inc()
        children[1].inc()
        if sms:
            children[2].inc(sms)
        self.latency.observe(seconds)

    def export(self) -> bytes:
        return generate_latest(self.exported())

    def exported(self) -> CollectorRegistry:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # several workers: add up their files
            combined = CollectorRegistry()
            multiprocess.MultiProcessCollector(combined)  # type: ignore[no-untyped-call]
            return combined
        return self.registry


class _Scrape:
    """What the metrics listener serves, decided at each scrape (one worker or several)."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        return self.metrics.exported().collect()


def split_address(address: str) -> tuple[str, int]:
    """`127.0.0.1:9464`, `[::1]:9464` or `:9464` (every address) -> (host, port)."""
    host, separator, port = address.rpartition(":")
    if not separator or not port.isdigit():
        raise ValueError(f"METRICS_ADDR must be HOST:PORT, not {address!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def listen(address: str, metrics: Metrics) -> WSGIServer:
    """Serve /metrics on its own address (a thread of this process), apart from the webhook's
    public port: the counts say which topics were asked about, and when."""
    host, port = split_address(address)
    server, _ = start_http_server(port, host, registry=_Scrape(metrics))
    return server
