"""The callback queue on Redis Cluster: its keys share one hash tag, so every script runs on
one node while the sessions spread over all of them."""

from __future__ import annotations

import asyncio
import shutil

import pytest
import redis
from fastapi.testclient import TestClient
from redis.asyncio.cluster import RedisCluster

from bot.config import new_callback_key
from bot.console.accounts import Accounts
from bot.store.keys import StaffKeys
from bot.webhook.asgi import create_app
from tests.helpers.console import CHEAP_HASHER, PASSWORD, claim_first, signed_in, staff_settings
from tests.helpers.phone import Phone
from tests.helpers.redis_server import Cluster

pytestmark = pytest.mark.e2e  # a Redis Cluster of three processes


@pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli comes with redis-server")
def test_callbacks_on_redis_cluster() -> None:
    cluster = Cluster()
    try:
        url = f"redis://127.0.0.1:{cluster.nodes[0].port}/0"
        add_account_on_cluster(url, "nina")
        settings = staff_settings(
            url, "cl", redis_cluster=True, callbacks=True, callback_key=new_callback_key()
        )
        with TestClient(create_app(settings)) as client:
            for n in range(6):
                assert Phone(client, f"+1555702{n:04d}").text("NURSE")[0].startswith("A nurse")
            Phone(client, "+15557020000").text("STOP")  # withdraws the first
            nina = signed_in(client, "nina")
            assert "5 waiting" in nina.get("/staff/callbacks").text
            request_id, call = claim_first(nina)
            assert 'href="tel:+1555702000' in call
            done = nina.post(f"/staff/callbacks/{request_id}/close", {"outcome": "reached"})
            assert "4 waiting" in done.text
        holders = [
            node.port
            for node in cluster.nodes
            if list(redis.Redis(port=node.port).scan_iter(match="cl:{cl:callbacks}:*"))
        ]
        assert len(holders) == 1  # the whole queue in one slot
    finally:
        cluster.cleanup()


def add_account_on_cluster(url: str, name: str) -> None:
    async def run() -> None:
        client = RedisCluster.from_url(url, decode_responses=True)
        await Accounts(client, StaffKeys("cl"), CHEAP_HASHER).add(name, "nurse", PASSWORD)
        await client.aclose()

    asyncio.run(run())
