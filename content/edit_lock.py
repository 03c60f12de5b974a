"""Who has an article open for editing: a soft, expiring marker in the cache.

It only informs ("王编辑 has been editing since 10:02"); the version check on save is what
actually prevents one editor from overwriting another.
"""

from django.core.cache import cache
from django.utils import timezone

LOCK_SECONDS = 15 * 60


def _key(article_id: int) -> str:
    return f"article-edit-lock:{article_id}"


def edit_lock_claim(*, article_id: int, user) -> dict | None:
    """Mark `user` as editing; return the other holder's {"name", "since"} if someone else already is."""
    mine = {"user_id": user.pk, "name": str(user), "since": timezone.now().isoformat()}
    if cache.add(_key(article_id), mine, LOCK_SECONDS):
        return None
    holder = cache.get(_key(article_id))
    if holder is None or holder["user_id"] == user.pk:
        cache.set(_key(article_id), {**mine, "since": (holder or mine)["since"]}, LOCK_SECONDS)
        return None
    return holder


def edit_lock_release(*, article_id: int, user) -> None:
    holder = cache.get(_key(article_id))
    if holder and holder["user_id"] == user.pk:
        cache.delete(_key(article_id))
