"""The test suite. Tests talk to a real Redis and sign webhooks with the production signer."""
