"""The HTTP app against its own OpenAPI description, fuzzed by schemathesis."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from bot.config import load_settings
from bot.webhook.asgi import create_app
from tests.helpers.settings import make_settings

pytestmark = pytest.mark.e2e

# The description is served in local mode only (production answers /openapi.json with 404);
# the cases it describes are sent to a production app.
production = create_app(make_settings(redis_url=None))
local = TestClient(
    create_app(load_settings(_env_file=None, redis_url=None)), base_url="http://127.0.0.1"
)
schema = schemathesis.openapi.from_dict(local.get("/openapi.json").raise_for_status().json())
schema.app = production


@schema.parametrize()
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_contract(case: Any) -> None:
    """Unsigned by design, so never 2xx for /sms; never a 5xx and always as documented."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    case.call_and_validate(excluded_checks=[positive_data_acceptance])


def test_production_does_not_describe_itself() -> None:
    """/openapi.json would list the routes and the signature header for anyone who asks."""
    client = TestClient(production)
    assert client.get("/openapi.json").status_code == 404
