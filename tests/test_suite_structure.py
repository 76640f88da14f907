"""The test suite's own layout: shared helpers live in tests/helpers/ or conftest.py, so no test
module imports from another (that would run the other module's tests' imports, and hide where a
helper lives)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).parent


def imported_test_modules(source: str) -> list[str]:
    """The tests.test_* modules that `source` imports, at any depth (inside functions too)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            module = absolute(node)
            names = [f"tests.{a.name}" for a in node.names] if module == "tests" else [module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [name for name in names if name.startswith("tests.test_")]
    return found


def absolute(node: ast.ImportFrom) -> str:
    """The module a `from ... import` reads from; a relative one is relative to tests/."""
    if node.level == 0:
        return node.module or ""
    return ".".join(filter(None, ["tests", node.module]))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("from tests.test_x import helper", ["tests.test_x"], id="from-module"),
        pytest.param("import tests.test_x", ["tests.test_x"], id="import"),
        pytest.param("from tests import test_x", ["tests.test_x"], id="from-package"),
        pytest.param("from .test_x import y", ["tests.test_x"], id="relative"),
        pytest.param("from . import test_x", ["tests.test_x"], id="relative-package"),
        pytest.param("def f():\n    from tests.test_x import y", ["tests.test_x"], id="nested"),
        pytest.param("from tests.helpers.console import Staff", [], id="helpers"),
    ],
)
def test_the_check_sees_every_way_to_import_a_test_module(source: str, expected: list[str]) -> None:
    assert imported_test_modules(source) == expected


def test_no_test_module_imports_another() -> None:
    borrowed = {
        path.name: modules
        for path in sorted(TESTS.glob("test_*.py"))
        if (modules := imported_test_modules(path.read_text(encoding="utf-8")))
    }
    assert borrowed == {}, "move shared helpers to tests/helpers/"
