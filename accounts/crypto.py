"""Protection of personal data and platform secrets at rest.

Values are encrypted with AES-256-GCM (`cryptography`'s AESGCM, an authenticated cipher used whole)
under keys derived from FIELD_ENCRYPTION_KEY. A token is url-safe base64 of

    version 0x81 | key id (4 bytes) | nonce (12 random bytes) | ciphertext + 16-byte tag

with the version and key id authenticated as associated data. Several comma-separated keys allow
rotation: the first encrypts, all decrypt, and the key id in each token says which key to try
(`manage.py rotate_encryption_key` re-encrypts stored values under the first). Values written
before this format are Fernet tokens (version 0x80) under the same keys: they still read, and
rotation rewrites them in the new format. The key objects are made once per process and set of
keys (`encrypt_many` is what a million-row import calls).

Encrypted values cannot be searched, so exact lookups use `keyed_hash`, an HMAC under a key derived
from FIELD_HASH_KEY, a secret of its own: equal inputs give equal hashes, the hash reveals nothing
without the key, and rotating the encryption key leaves every stored hash valid.
"""

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GCM_VERSION = 0x81
FERNET_VERSION = 0x80
_NONCE = 12
_HEADER = 5  # version + key id


@dataclass(frozen=True)
class _Key:
    key_id: bytes
    aead: AESGCM
    fernet: Fernet  # reads tokens written before the AES-GCM format

    @property
    def header(self) -> bytes:
        return bytes((GCM_VERSION,)) + self.key_id


@lru_cache(maxsize=4)
def _ring(keys: tuple[str, ...]) -> tuple[_Key, ...]:
    ring = []
    for key in keys:
        try:
            fernet = Fernet(key.encode())
            raw = base64.urlsafe_b64decode(key.encode())
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY must be one or more comma-separated Fernet keys (32 url-safe base64 bytes)"
            ) from exc
        # A key of its own for AES-GCM (not the Fernet halves), and a public id that names it.
        derived = HKDF(algorithm=hashes.SHA256(), length=36, salt=None, info=b"govcms-field-aesgcm-v1").derive(raw)
        ring.append(_Key(key_id=derived[32:], aead=AESGCM(derived[:32]), fernet=fernet))
    if not ring:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY holds no key")
    return tuple(ring)


def _keys() -> tuple[_Key, ...]:
    return _ring(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return encrypt_many([plaintext])[0]


def encrypt_many(values: list[str]) -> list[str]:
    """Tokens for `values`, in order, under the first key, each with its own random nonce (random
    96-bit nonces stay safe far beyond the billions of values one key will ever encrypt)."""
    key = _keys()[0]
    header, seal = key.header, key.aead.encrypt
    nonces = os.urandom(_NONCE * len(values))
    sealed = []
    for index, value in enumerate(values):
        nonce = nonces[_NONCE * index : _NONCE * (index + 1)]
        sealed.append(header + nonce + seal(nonce, value.encode(), header))
    size = len(sealed[0]) if sealed else 0
    if size and size % 3 == 0 and all(len(token) == size for token in sealed):
        # Equal lengths in whole base64 groups (identity numbers: 51 bytes, 68 characters): one encoding
        # of them all, cut apart, is each one's encoding, without a call per value.
        encoded = base64.urlsafe_b64encode(b"".join(sealed)).decode()
        width = size // 3 * 4
        return [encoded[start : start + width] for start in range(0, len(encoded), width)]
    return [base64.urlsafe_b64encode(token).decode() for token in sealed]


def _open(token: str, keys: tuple[_Key, ...]) -> str | None:
    """The plaintext of `token` under one of `keys`, or None when none of them opens it."""
    try:
        data = base64.urlsafe_b64decode(token.encode())
    except (binascii.Error, ValueError):
        return None
    if not data:
        return None
    if data[0] == GCM_VERSION and len(data) >= _HEADER + _NONCE + 16:
        header, nonce, sealed = data[:_HEADER], data[_HEADER : _HEADER + _NONCE], data[_HEADER + _NONCE :]
        for key in keys:
            if key.key_id == header[1:]:
                try:
                    return key.aead.decrypt(nonce, sealed, header).decode()
                except InvalidTag:
                    continue  # two keys sharing a 4-byte id: try the next
        return None
    if data[0] == FERNET_VERSION:
        for key in keys:
            try:
                return key.fernet.decrypt(token.encode()).decode()
            except InvalidToken:
                continue
    return None


def decrypt(token: str) -> str:
    plaintext = _open(token, _keys())
    if plaintext is None:
        raise ImproperlyConfigured(
            "A stored encrypted value cannot be decrypted with FIELD_ENCRYPTION_KEY: "
            "the key was changed without keeping the old one in the list"
        )
    return plaintext


def is_under_current_key(token: str) -> bool:
    """Whether `token` is in the current format under the first (current) key, i.e. needs no rotation."""
    return _open(token, _keys()[:1]) is not None and base64.urlsafe_b64decode(token.encode())[0] == GCM_VERSION


def rotate(token: str) -> str:
    """`token` (either format, any key of FIELD_ENCRYPTION_KEY) re-encrypted in the current format under
    the first key; ImproperlyConfigured when no key in FIELD_ENCRYPTION_KEY opens it."""
    plaintext = _open(token, _keys())
    if plaintext is None:
        raise ImproperlyConfigured("A stored encrypted value cannot be decrypted with any key in FIELD_ENCRYPTION_KEY")
    return encrypt(plaintext)


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
    # hmac.HMAC wraps OpenSSL's HMAC object when CPython has one (`_hmac`): copying that object
    # itself skips the Python wrapper, a quarter of the time per value (2 us instead of 8).
    prepared = getattr(prepared, "_hmac", None) or prepared  # None on builds without it (Python 3.12+)

    def hash_value(value: str) -> str:
        mac = prepared.copy()
        mac.update(value.encode())
        return mac.hexdigest()

    return hash_value
