"""Solving the public forms' captcha as a citizen reading the picture would: for the tests and the benches.

Production code has no way to read an answer without spending it, and no setting turns the captcha off.
"""

import re

from django.core.cache import cache

from shared.captcha import CACHE_PREFIX, FIELD_NAME


def captcha_answer(key: str) -> str | None:
    """The answer waiting under `key`, without spending it."""
    return cache.get(CACHE_PREFIX + key)


def captcha_post_data(html: str, *, name: str = FIELD_NAME) -> dict[str, str]:
    """The POST fields that solve the captcha rendered in `html` (a page with the form)."""
    match = re.search(rf'name="{re.escape(name)}_key" value="([^"]+)"', html)
    if match is None:
        raise AssertionError(f"no captcha named {name!r} in the page")
    key = match.group(1)
    return {f"{name}_key": key, f"{name}_answer": captcha_answer(key) or ""}
