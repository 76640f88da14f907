"""The one place Redis clients are made, with one policy per purpose.

- webhook: the session store. Every inbound text waits on it, so it gets the tight
  REDIS_TIMEOUT_SECONDS and no retries inside redis-py: a failed call becomes StoreUnavailable at
  once, the message is answered without its session, and the store cools down.
- console: catalog versions, drafts, the audit trail and accounts, for the staff console and the
  worker that follows published versions. Bounded, so start-up, the follower and the pages never
  wait on a Redis that does not answer, but more generous than the webhook's budget, as snapshots
  are large; one retry.
- callbacks: the nurse callback queue. A patient waits on it only when asking for a call (or
  taking one back), a nurse when working the queue: a little more than the webhook's budget
  (at least a second), one retry.
- cli: the smsbot commands that talk to Redis directly (staff add, catalog export); as console.

Clients answer `str` (decode_responses) and follow REDIS_CLUSTER.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from bot.config import Settings
from bot.errors import ConfigError

Purpose = Literal["webhook", "console", "callbacks", "cli"]
Client = Redis | RedisCluster


@dataclass(frozen=True, slots=True)
class Policy:
    socket_timeout: float
    connect_timeout: float
    retries: int
    health_check_interval: int = 0


def policy(settings: Settings, purpose: Purpose) -> Policy:
    budget = settings.redis_timeout_seconds
    if purpose == "webhook":
        return Policy(budget, budget, retries=0, health_check_interval=30)
    if purpose == "callbacks":
        return Policy(max(1.0, budget), max(1.0, budget), retries=1)
    return Policy(max(5.0, budget), budget, retries=1)


def connect(settings: Settings, *, purpose: Purpose) -> Client:
    """A client for REDIS_URL; raises ConfigError when it is not set."""
    if not settings.redis_url:
        raise ConfigError("REDIS_URL is not set")
    chosen = policy(settings, purpose)
    if settings.redis_cluster:
        return RedisCluster.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_timeout=chosen.socket_timeout,
            socket_connect_timeout=chosen.connect_timeout,
        )
    return Redis.from_url(
        settings.redis_url,
        decode_responses=True,
        socket_timeout=chosen.socket_timeout,
        socket_connect_timeout=chosen.connect_timeout,
        retry=Retry(NoBackoff(), chosen.retries),
        health_check_interval=chosen.health_check_interval,
    )


def stop_if_cancelled() -> None:
    """For a task that loops on Redis calls until it is cancelled: call it once per round, and
    where a Redis error is caught. A cancellation that lands while redis-py is reading or
    writing can come out as a connection error, or be lost altogether when redis-py retries
    the call and the retry succeeds; the loop would then run on after the lifespan that stops it
    has cancelled it, and that lifespan would wait for it forever."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
