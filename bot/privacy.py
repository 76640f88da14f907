"""Who is texting, without keeping who they are.

State is keyed by a keyed hash (HMAC-SHA256) of the sender's E.164 number. Without the key the
hash cannot be turned back into a number by trying every phone number, which a plain hash can.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import phonenumbers

CHANNEL_PREFIXES = ("whatsapp:", "sms:", "messenger:")
E164 = re.compile(r"\+[1-9]\d{6,14}")  # what Twilio sends: taken as is, no parsing needed


def normalize_number(raw: str, default_region: str = "US") -> str:
    """E.164 for phone numbers ('whatsapp:+1 555...' is the same person); other IDs folded."""
    address = raw.strip()
    for prefix in CHANNEL_PREFIXES:
        if address.lower().startswith(prefix):
            address = address[len(prefix) :]
            break
    if E164.fullmatch(address):
        return address
    try:
        number = phonenumbers.parse(address, default_region)
    except phonenumbers.NumberParseException:
        return address.casefold()  # short codes, alphanumeric sender IDs
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def sender_key(raw: str, key: bytes) -> str:
    """A stable 128-bit pseudonym for one sender (22 URL-safe characters)."""
    digest = hmac.new(key, normalize_number(raw).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
