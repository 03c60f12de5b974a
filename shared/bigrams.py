"""Chinese text without word segmentation: every run of two characters is a term.

Articles, disclosure records and their searches all split text this way, so a query's bigrams
match the stored ones exactly.
"""

import re

_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    return _SPACE.sub(" ", (text or "").lower()).strip()


def bigrams(text: str) -> list[str]:
    """Distinct two-character runs of the text, never across whitespace."""
    found = set()
    for word in normalize(text).split(" "):
        found.update(word[i : i + 2] for i in range(len(word) - 1))
    return sorted(found)


def query_terms(query: str) -> list[str]:
    """Space-separated words of the query; each must be at least two characters long."""
    return [word for word in normalize(query).split(" ") if word]
