"""Settings read the environment and refuse unsafe production configurations."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from govcms.env import EnvError, database_from_url, env_bool

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k" * 10 + "-production-secret-with-enough-length-and-variety-0123456789",
    "FIELD_ENCRYPTION_KEY": "cHJvZHVjdGlvbi1maWVsZC1rZXktMzItYnl0ZXMhISE=",
    "FIELD_HASH_KEY": "production-lookup-hash-key-with-at-least-32-characters",
    "ALLOWED_HOSTS": "gov.example.cn",
}


def _manage(*args, env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "FIELD_HASH_KEY", "ALLOWED_HOSTS"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_field_encryption_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "FIELD_ENCRYPTION_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_field_hash_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "FIELD_HASH_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "FIELD_HASH_KEY must be set" in result.stderr


def test_check_deploy_is_clean_in_production():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_bad_boolean_fails_loudly(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(EnvError, match="DEBUG"):
        env_bool("DEBUG", False)


def test_database_url_is_parsed():
    db = database_from_url("postgres://gov:p%40ss@db.local:6543/govcms?sslmode=require")
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "gov",
        "p@ss",
        "db.local",
        "6543",
        "govcms",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_only_postgresql_is_accepted():
    with pytest.raises(EnvError, match="PostgreSQL"):
        database_from_url("sqlite:///db.sqlite3")
