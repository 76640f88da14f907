"""The HTTP app against its own OpenAPI description, fuzzed by schemathesis."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from bot.webhook.asgi import create_app
from tests.helpers.settings import make_settings

pytestmark = pytest.mark.e2e

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(make_settings(redis_url=None)))


@schema.parametrize()
@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
def test_openapi_contract(case: Any) -> None:
    """Unsigned by design, so never 2xx for /sms; never a 5xx and always as documented."""
    from schemathesis.specs.openapi.checks import positive_data_acceptance

    case.call_and_validate(excluded_checks=[positive_data_acceptance])
