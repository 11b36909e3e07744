"""Encryption at rest for ID numbers and bank accounts (等保 三级).

Values are sealed with AES-256-GCM (authenticated: a changed byte fails to open)
under a key from the environment; each token names the key it was sealed with, so
keys rotate: new values are sealed with the first key of ``YIDI_FIELD_KEYS`` and
``manage.py rotate_field_keys`` re-seals the rest. A token looks like

    enc1$<key id>$<base64url(12-byte nonce + ciphertext + tag)>

The purpose ("id_number", "bank_account") is bound into the tag as associated
data, so a token copied from one kind of column into another does not open.

Exact search cannot compare ciphertexts (every seal is different), so columns that
are searched keep a blind index beside them: an HMAC-SHA256 of the normalized value
under a second key (``YIDI_BLIND_INDEX_KEY``). The last four characters, which the
counter searches by, have their own column (see core.fields).

Settings (docs/security.md, docs/deployment.md):
    YIDI_FIELD_KEYS       "k2:<base64 32 bytes>,k1:<base64 32 bytes>"  first seals, all open
    YIDI_BLIND_INDEX_KEY  "<base64 32 bytes>"
Without them both keys are a fixed development key (key id "dev"), the same in every
development process, test run and benchmark — and public, so ``check --deploy`` refuses
it in production. (Not derived from DJANGO_SECRET_KEY: rotating that key, a routine
operation, must not make the data unreadable.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc1$"
DERIVED_KEY_ID = "dev"
_DEVELOPMENT_SEED = b"yidi development key: public, never for production data"
_NONCE_BYTES = 12


class DecryptionError(ValueError):
    """A token that no configured key opens (wrong key, or the value was altered)."""


@dataclass(frozen=True)
class Keyring:
    current: str
    keys: dict[str, bytes]
    blind_key: bytes
    derived: bool

    def seal(self, plaintext: str, purpose: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plaintext.encode("utf-8"), _aad(purpose))
        return f"{PREFIX}{self.current}${base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def open(self, token: str, purpose: str) -> str:
        try:
            key_id, body = token[len(PREFIX):].split("$", 1)
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
        except (ValueError, binascii.Error):
            raise DecryptionError("malformed encrypted value") from None
        key = self.keys.get(key_id)
        if key is None:
            raise DecryptionError(f"no key {key_id!r} in YIDI_FIELD_KEYS to open this value")
        try:
            plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(purpose))
        except InvalidTag:
            raise DecryptionError(f"the value does not open with key {key_id!r} (altered or wrong key)") from None
        return plain.decode("utf-8")

    def seal_bytes(self, content: bytes, purpose: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, content, _aad(purpose))
        return PREFIX.encode("ascii") + self.current.encode("ascii") + b"$" + nonce + sealed

    def open_bytes(self, blob: bytes, purpose: str) -> bytes:
        if not blob.startswith(PREFIX.encode("ascii")):
            raise DecryptionError("not a sealed file")
        key_id, _sep, raw = blob[len(PREFIX):].partition(b"$")
        key = self.keys.get(key_id.decode("ascii", "replace"))
        if key is None:
            raise DecryptionError(f"no key {key_id.decode('ascii', 'replace')!r} in YIDI_FIELD_KEYS to open this file")
        try:
            return AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(purpose))
        except InvalidTag:
            raise DecryptionError("the file does not open (altered or wrong key)") from None

    def blind_index(self, value: str, purpose: str) -> str:
        return hmac.new(self.blind_key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()


def _aad(purpose: str) -> bytes:
    return f"yidi:{purpose}".encode("ascii")


def _decode_key(text: str, name: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (ValueError, binascii.Error):
        raise ImproperlyConfigured(f"{name}: a key is not valid base64.") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name}: each key must be 32 bytes (base64 of 32 random bytes), got {len(key)}.")
    return key


def _derive(label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"yidi-field-encryption", info=label.encode()).derive(
        _DEVELOPMENT_SEED
    )


def parse_field_keys(raw: str) -> tuple[str, dict[str, bytes]]:
    keys: dict[str, bytes] = {}
    current = ""
    for item in [part.strip() for part in raw.split(",") if part.strip()]:
        key_id, sep, text = item.partition(":")
        key_id = key_id.strip()
        if not sep or not key_id or "$" in key_id:
            raise ImproperlyConfigured('YIDI_FIELD_KEYS: write each key as "<id>:<base64 key>", comma-separated.')
        if key_id in keys:
            raise ImproperlyConfigured(f"YIDI_FIELD_KEYS: key id {key_id!r} appears twice.")
        keys[key_id] = _decode_key(text, "YIDI_FIELD_KEYS")
        current = current or key_id
    return current, keys


@lru_cache(maxsize=1)
def _keyring_for(raw_keys: str, raw_blind: str) -> Keyring:
    derived = not raw_keys
    if raw_keys:
        current, keys = parse_field_keys(raw_keys)
    else:
        current, keys = DERIVED_KEY_ID, {DERIVED_KEY_ID: _derive("field-key")}
    blind_key = _decode_key(raw_blind, "YIDI_BLIND_INDEX_KEY") if raw_blind else _derive("blind-index")
    return Keyring(current=current, keys=keys, blind_key=blind_key, derived=derived or not raw_blind)


def keyring() -> Keyring:
    # Keyed on the settings themselves, so override_settings in tests takes effect.
    return _keyring_for(getattr(settings, "YIDI_FIELD_KEYS", ""), getattr(settings, "YIDI_BLIND_INDEX_KEY", ""))


def is_token(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def token_key_id(token: str) -> str:
    return token[len(PREFIX):].split("$", 1)[0]


def encrypt(plaintext: str, purpose: str) -> str:
    return keyring().seal(plaintext, purpose)


def decrypt(token: str, purpose: str) -> str:
    return keyring().open(token, purpose)


def seal_bytes(content: bytes, purpose: str = "document") -> bytes:
    """A whole file sealed (archived exports that must keep full numbers: the provincial
    upload, the bank's transfer file)."""
    return keyring().seal_bytes(content, purpose)


def open_bytes(blob: bytes, purpose: str = "document") -> bytes:
    return keyring().open_bytes(blob, purpose)


def sealed_key_id(blob_head: bytes) -> str:
    return blob_head[len(PREFIX):].partition(b"$")[0].decode("ascii", "replace")


def blind_index(value: str, purpose: str) -> str:
    """The searchable keyed hash of a normalized value ("" stays "")."""
    return keyring().blind_index(value, purpose) if value else ""


def new_key() -> str:
    """A fresh key for YIDI_FIELD_KEYS or YIDI_BLIND_INDEX_KEY (base64 of 32 random bytes)."""
    return base64.b64encode(os.urandom(32)).decode("ascii")
