"""The webhook: the Twilio edge, the framework-free webhook, the ASGI app and the simulator."""
