"""Helpers shared by test modules: plain functions and classes, never fixtures (those live in
tests/conftest.py)."""
