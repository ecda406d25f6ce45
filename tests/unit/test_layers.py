"""The store is the bottom floor: it may use pure rules (tokens, clock, pilots' rules) but
nothing that stands on it, or the layers knot into cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import server.store

STORE = Path(server.store.__file__).parent
ABOVE_THE_STORE = (
    "integrations",
    "server.api",
    "server.consultations",
    "server.fhir",
    "server.honoraria",
    "server.media",
    "server.notetaker",
    "server.pages",
    "server.retention",
    "server.signalling",
    "server.waitingroom",
    "server.webhooks",
)


def imported(source: str) -> set[str]:
    """Every module a store module imports, at any depth (a function's own imports too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = "server.store".rsplit(".", node.level - 1)[0]
                base = f"{package}.{node.module}" if node.module else package
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def test_the_store_imports_nothing_that_stands_on_it() -> None:
    found = [
        f"server/store/{path.name} imports {module}"
        for path in sorted(STORE.glob("*.py"))
        for module in sorted(imported(path.read_text()))
        for package in ABOVE_THE_STORE
        if is_within(module, package)
    ]
    assert found == []


def test_the_check_sees_every_kind_of_import() -> None:
    source = (
        "import integrations.lps\n"
        "from server import signalling\n"
        "from ..media import tap\n"
        "def f():\n"
        "    from server.webhooks.signing import sign\n"
    )
    found = imported(source)
    for module in ["integrations.lps", "server.signalling", "server.media.tap"]:
        assert module in found
    assert "server.webhooks.signing" in found
