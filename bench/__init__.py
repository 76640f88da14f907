"""Benchmark: the bot against an empty FastAPI endpoint, under signed, realistic traffic."""
