"""Each application module reads in one sitting and each function fits on a screen (docs/ARCHITECTURE.md, "Size").

Application code is every Python file of the apps, the ground floor and the project package, except migrations
(Django writes them) and tests; bench/ and deploy/ are tools. A module past the limit becomes a package by topic
with the same import path; a function past it is cut at named steps.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "core", "events", "inventory", "ops", "orders", "ticketremaster")
MODULE_MAX_LINES = 520
FUNCTION_MAX_LINES = 60


def _application_modules() -> list[Path]:
    modules = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).parts
            if "migrations" in parts or "tests" in parts or path.name in ("conftest.py", "settings_test.py"):
                continue
            modules.append(path)
    return modules


def test_the_application_code_is_found():
    modules = {str(path.relative_to(ROOT)) for path in _application_modules()}
    assert {"orders/services/purchase/checkout.py", "core/errors.py", "ticketremaster/settings.py"} <= modules
    assert not any("/migrations/" in name or "/tests/" in name for name in modules)


@pytest.mark.parametrize("path", _application_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_module_and_functions_are_short_enough_to_read(path):
    source = path.read_text()
    assert source.count("\n") <= MODULE_MAX_LINES, "split the module into a package by topic"
    long_functions = [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > FUNCTION_MAX_LINES
    ]
    assert long_functions == [], "cut these at named steps"
