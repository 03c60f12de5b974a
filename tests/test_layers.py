"""Imports follow the layers (DESIGN.md "Layout"): shared helpers import no app; `accounts` (the bottom
app) imports no other app and not the project package, whose __init__ starts the Celery app; `content`,
`disclosure` and `complaints` import `accounts` but not each other (what several of them need lives in
`shared/`, what every public page shows comes from govcms/context_processors.py); `publishing` knows
articles, and nothing of disclosure or complaints; `answers` (the answer library) knows departments and
articles, and publishing's callback server asks it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = {"accounts", "content", "disclosure", "complaints", "publishing", "answers"}

# The one sideways import the design asks for: the annual disclosure report counts the year's disclosure
# requests, which are complaints' cases (issue 13: reports.py imports complaints.selectors plainly).
# And issue 15: a follower's WeChat message no library entry answers becomes a citizen message; the one
# module that turns messages into cases (and sends the handler's reply back) asks complaints' services; and
# account health counts an account's overdue WeChat cases by complaints' own rule (complaints.selectors).
ALLOWED_SIDEWAYS = {
    "disclosure/reports.py": {"complaints"},
    "publishing/wechat_cases.py": {"complaints"},
    "publishing/health.py": {"complaints"},
}


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


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("shared", APPS | {"govcms"}),
        ("accounts", (APPS - {"accounts"}) | {"govcms"}),
        ("content", {"disclosure", "complaints", "publishing", "answers"}),
        ("disclosure", {"content", "complaints", "publishing", "answers"}),
        ("complaints", {"content", "disclosure", "publishing", "answers"}),
        ("publishing", {"disclosure", "complaints"}),
        # The answer library knows departments and articles; publishing's callback server asks it.
        ("answers", {"disclosure", "complaints", "publishing"}),
    ],
)
def test_a_layer_imports_only_the_layers_below_it(folder, forbidden):
    offenders = {
        path: sorted((names & forbidden) - ALLOWED_SIDEWAYS.get(path, set()))
        for path, names in imported_packages(folder).items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}
