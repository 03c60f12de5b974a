"""Protection of personal data and platform secrets at rest.

Values are encrypted with Fernet (AES-128-CBC + HMAC) under FIELD_ENCRYPTION_KEY; several
comma-separated keys allow rotation (the first encrypts, all decrypt; `manage.py
rotate_encryption_key` re-encrypts stored values under the first). Encrypted values cannot be
searched, so exact lookups use `keyed_hash`, an HMAC under a key derived from FIELD_HASH_KEY, a
secret of its own: equal inputs give equal hashes, the hash reveals nothing without the key, and
rotating the encryption key leaves every stored hash valid.
"""

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys (32 url-safe base64 bytes)"
        ) from exc


def _keys() -> tuple[str, ...]:
    return tuple(settings.FIELD_ENCRYPTION_KEYS)


def encrypt(plaintext: str) -> str:
    return _fernet(_keys()).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(_keys()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored encrypted value cannot be decrypted with FIELD_ENCRYPTION_KEY: "
            "the key was changed without keeping the old one in the list"
        ) from exc


def is_under_current_key(token: str) -> bool:
    """Whether `token` was encrypted under the first (current) key, i.e. needs no rotation."""
    try:
        _fernet(_keys()[:1]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """`token` re-encrypted under the first key (MultiFernet.rotate); ImproperlyConfigured when no key
    in FIELD_ENCRYPTION_KEY opens it."""
    try:
        return _fernet(_keys()).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A stored encrypted value cannot be decrypted with any key in FIELD_ENCRYPTION_KEY"
        ) from exc


def keyed_hash(value: str, *, purpose: str) -> str:
    """Deterministic HMAC-SHA256 of `value`, separate per purpose, for exact-match lookups."""
    return keyed_hasher(purpose)(value)


def keyed_hasher(purpose: str):
    """`keyed_hash` for one purpose as a function, its HMAC key set up once and copied per value:
    what bulk work (a million-row import) calls in its loop."""
    # Derived as before FIELD_HASH_KEY existed (from the then-first encryption key), so a deployment
    # that sets FIELD_HASH_KEY to that key keeps its stored hashes.
    secret = hashlib.sha256(("govcms-lookup:" + settings.FIELD_HASH_KEY).encode()).digest()
    prepared = hmac.new(secret, f"{purpose}:".encode(), hashlib.sha256)

    def hash_value(value: str) -> str:
        mac = prepared.copy()
        mac.update(value.encode())
        return mac.hexdigest()

    return hash_value
