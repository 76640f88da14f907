"""The phone number of a callback request, encrypted with AES-256-GCM under CALLBACK_KEY.

Sealed as soon as the webhook has read the number, so the plain number exists only in the
memory of the request that carries it and of the nurse's page that shows it. The sender's hash
is the associated data: a sealed number copied into another sender's request does not open.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12  # AES-GCM's standard nonce; random, as each number is sealed once per request
FORMAT = "1"  # a version before the ciphertext, so a later key or cipher can be told apart


class SealError(Exception):
    """The sealed number does not open: another key, another sender, or damaged."""


class NumberBox:
    def __init__(self, key: bytes):
        self._aead = AESGCM(key)

    def seal(self, number: str, sender: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, number.encode(), sender.encode())
        return FORMAT + "." + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, sender: str) -> str:
        version, _, payload = sealed.partition(".")
        if version != FORMAT:
            raise SealError("unknown format")
        try:
            raw = base64.urlsafe_b64decode(payload)
            number = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], sender.encode())
        except (InvalidTag, ValueError) as exc:
            raise SealError("does not open with this key and sender") from exc
        return number.decode()
