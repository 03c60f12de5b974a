"""Imports follow the layers: shared helpers import no app, and `accounts` (the bottom app) does not
import the project package, whose __init__ starts the Celery app."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = {"accounts", "content", "disclosure", "complaints", "publishing"}


def imported_packages(folder: str) -> dict[str, set[str]]:
    found = {}
    for path in (ROOT / folder).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("folder", "forbidden"), [("shared", APPS | {"govcms"}), ("accounts", {"govcms"})])
def test_a_lower_layer_does_not_import_a_higher_one(folder, forbidden):
    offenders = {path: sorted(names & forbidden) for path, names in imported_packages(folder).items()}
    assert {path: names for path, names in offenders.items() if names} == {}
