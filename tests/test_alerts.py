"""The alerting rules an operator loads (deploy/prometheus): valid, unit-tested with promtool,
and written against the metrics the app really exposes, label values included."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from ruamel.yaml import YAML

from bot.config import PROJECT_ROOT
from bot.webhook.asgi import create_app
from tests.helpers.phone import Phone
from tests.helpers.redis_server import free_port
from tests.helpers.settings import make_settings

RULES = PROJECT_ROOT / "deploy" / "prometheus"
# scripts/test puts Debian's promtool next to the interpreter when the machine lacks one
PROMTOOL = shutil.which(
    "promtool",
    path=os.pathsep.join([os.environ.get("PATH", os.defpath), str(Path(sys.executable).parent)]),
)
SELECTOR = re.compile(r"\b(smsbot_\w+)(?:\{([^}]*)\})?")
MATCHER = re.compile(r'(\w+)="([^"]*)"')


@pytest.mark.skipif(PROMTOOL is None, reason="needs promtool (apt-get install prometheus)")
def test_rules_are_valid_and_their_unit_tests_pass() -> None:
    for command in (["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]):
        assert PROMTOOL is not None
        run = subprocess.run([PROMTOOL, *command], cwd=RULES, capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr


def test_rules_name_only_metrics_and_labels_the_app_exposes(redis_url: str, prefix: str) -> None:
    exposed = exposed_series(redis_url, prefix)
    for name, matchers in selectors(RULES / "alerts.yml"):
        assert any(series == name and matchers <= labels for series, labels in exposed), (
            f"{name}{{{matchers}}} is not among the app's metrics"
        )


def selectors(path: Path) -> list[tuple[str, set[tuple[str, str]]]]:
    found = []
    for group in YAML(typ="safe").load(path)["groups"]:
        for rule in group["rules"]:
            for name, inside in SELECTOR.findall(rule["expr"]):
                found.append((name, set(MATCHER.findall(inside))))
    assert found, "no smsbot metric in the rules"
    return found


def exposed_series(redis_url: str, prefix: str) -> list[tuple[str, set[tuple[str, str]]]]:
    """Every series after the traffic each alert watches for: answers, a forged webhook, a
    flood, and answers while Redis is unreachable."""
    texts: list[str] = []
    healthy = make_settings(redis_url=redis_url, redis_key_prefix=prefix, flood_limit=5)
    with TestClient(create_app(healthy)) as client:
        phone = Phone(client)
        for _ in range(6):  # the sixth is over the limit: a flood notice
            phone.text("TYPES")
        forged = Phone(client, token="not-the-real-token")
        assert forged.post(forged.form("TYPES")).status_code == 403
        texts.append(client.get("/metrics").text)
    away = make_settings(redis_url=f"redis://127.0.0.1:{free_port()}/0", redis_key_prefix=prefix)
    with TestClient(create_app(away)) as client:
        Phone(client).text("TYPES")
        texts.append(client.get("/metrics").text)
    return [
        (sample.name, set(sample.labels.items()))
        for text in texts
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]
