"""A Redis ACL user and password in REDIS_URL reach every client: the cache, Celery and the project's pool,
also when REDIS_DB picks another database."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _settings_with(env: dict) -> dict:
    code = (
        "import json; from django.conf import settings as s; "
        "print(json.dumps([s.REDIS_URL, s.CACHES['default']['LOCATION'], s.CELERY_BROKER_URL]))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_redis_db_keeps_the_user_and_password():
    urls = _settings_with({"REDIS_URL": "redis://govcms:p%40ss-word@127.0.0.1:6379/0", "REDIS_DB": "11"})
    assert urls == ["redis://govcms:p%40ss-word@127.0.0.1:6379/11"] * 3


@pytest.fixture
def acl_user():
    """A real ACL user on the test Redis, removed afterwards."""
    admin = redis.Redis.from_url(settings.REDIS_URL)
    name, password = f"govcms-test-{secrets.token_hex(4)}", secrets.token_urlsafe(16)
    admin.acl_setuser(name, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all"])
    try:
        yield name, password
    finally:
        admin.acl_deluser(name)


def test_the_cache_works_as_an_acl_user(acl_user):
    from django.core.cache.backends.redis import RedisCache

    name, password = acl_user
    db = redis.Redis.from_url(settings.REDIS_URL).connection_pool.connection_kwargs.get("db", 0)
    url = f"redis://{name}:{password}@127.0.0.1:6379/{db}"
    cache = RedisCache(url, {"KEY_PREFIX": "govcms-acl-test"})
    cache.set("probe", "ok", 30)
    assert cache.get("probe") == "ok"
    cache.delete("probe")

    wrong = redis.Redis.from_url(f"redis://{name}:not-the-password@127.0.0.1:6379/{db}")
    with pytest.raises(redis.AuthenticationError):
        wrong.ping()
