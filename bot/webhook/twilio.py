"""The Twilio edge: check the signature, read the form, write TwiML.

Signing and verifying share one function (`signature`), so the tests sign requests with exactly
the code that production uses to verify them.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable, Iterator, Mapping, Sequence
from urllib.parse import unquote_plus, urlsplit, urlunsplit
from xml.sax.saxutils import escape

from bot.errors import SignatureError

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_SETTINGS_HEADER",
    "Form",
    "SignatureError",
    "parse_form",
    "public_url",
    "signature",
    "twiml",
    "verify",
]

# Twilio's names, as twilio.request_validator has them (the tests compare this module with the
# SDK, which is only a test dependency: production does not need its 50 MB and four extras).
SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
HMAC_SHA1 = "HMAC_SHA1"
_DIGEST_NAMES = {HMAC_SHA1: "sha1", "HMAC_SHA256": "sha256"}
# The webhook fields the bot reads (Twilio sends a few more; the signature covers them all).
WEBHOOK_FIELDS = (
    "MessageSid",
    "SmsSid",
    "AccountSid",
    "MessagingServiceSid",
    "From",
    "To",
    "Body",
    "NumMedia",
    "FromCountry",
    "OptOutType",
)
MAX_FIELDS = 100  # Twilio sends about 20; far more is not Twilio
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
EMPTY_TWIML = XML_DECLARATION + "<Response/>"


class Form:
    """A parsed webhook form: repeated fields kept, as Twilio's signature covers all of them."""

    def __init__(self, pairs: Sequence[tuple[str, str]]):
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    @classmethod
    def from_values(cls, values: dict[str, list[str]]) -> Form:
        form = cls(())
        form._values = values
        return form

    def __iter__(self) -> Iterator[str]:  # the SDK's compute_signature iterates the names
        return iter(self._values)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def get(self, name: str, default: str = "") -> str:
        values = self._values.get(name)
        return values[0] if values else default

    def getlist(self, name: str) -> list[str]:
        return self._values.get(name, [])

    getall = getlist  # the name twilio's signature code asks for first


def parse_form(body: bytes) -> Form:
    """Raise ValueError on a body that is not a sane URL-encoded form.

    Reads the form exactly as parse_qsl(keep_blank_values=True) does (the tests compare the
    two), in half the time: most of Twilio's fields need no unescaping, and this runs for every
    text that arrives.
    """
    text = body.decode("utf-8")  # UnicodeDecodeError is a ValueError
    chunks = text.split("&")
    if len(chunks) > MAX_FIELDS:
        raise ValueError("too many fields")
    values: dict[str, list[str]] = {}
    for chunk in chunks:
        if not chunk:
            continue
        name, _, value = chunk.partition("=")
        if "%" in name or "+" in name:
            name = unquote_plus(name, errors="strict")
        if "%" in value or "+" in value:
            value = unquote_plus(value, errors="strict")
        found = values.get(name)
        if found is None:
            values[name] = [value]
        else:
            found.append(value)
    return Form.from_values(values)


def signature(
    token: str, url: str, params: Mapping[str, str] | Form, algorithm: str | None = None
) -> str:
    """X-Twilio-Signature for a request: the URL, then each field name followed by its value,
    names sorted (and the distinct values of a repeated field sorted), HMAC-SHA1 (or -SHA256
    with a SharedKey), base64. The same as twilio.request_validator's compute_signature, which
    the tests check it against, without its per-field overhead."""
    digest = _DIGEST_NAMES[(algorithm or HMAC_SHA1).upper()]
    parts = [url]
    for name in sorted(params):
        values = params.getlist(name) if isinstance(params, Form) else [params[name]]
        if len(values) > 1:  # a repeated field: each distinct value, sorted
            values = sorted(set(values))
        for value in values:
            parts.append(name)
            parts.append(value)
    mac = hmac.digest(token.encode(), "".join(parts).encode(), digest)  # one C call
    return base64.b64encode(mac).decode()


def verify(
    token: str,
    url: str,
    params: Form,
    provided: str | None,
    settings_header: str | None = None,
    shared_key: str | None = None,
) -> None:
    """Raise SignatureError unless `provided` is Twilio's signature of this request.

    Twilio signs with the account's Auth Token (HMAC-SHA1), or, when the request carries
    X-Twilio-Webhooks-Signature-Settings, with a webhook SharedKey secret and the algorithm the
    header names. One HMAC on the normal path. Only when it fails is the URL tried with the
    default port added or removed, because Twilio has signed both forms in the past.
    """
    if not provided:
        raise SignatureError(missing=True)
    if not provided.isascii():  # base64 is ASCII; compare_digest would raise on anything else
        raise SignatureError(missing=False)
    algorithm = get_signature_algorithm(settings_header)
    if algorithm.upper() not in _DIGEST_NAMES:
        raise SignatureError(missing=False)
    secret = token
    if settings_header:
        if not shared_key:
            raise SignatureError(missing=False, shared_key_needed=True)
        secret = shared_key
    if hmac.compare_digest(signature(secret, url, params, algorithm), provided):
        return
    other = _other_port_form(url)
    if other != url and hmac.compare_digest(signature(secret, other, params, algorithm), provided):
        return
    raise SignatureError(missing=False)


def get_signature_algorithm(settings_header: str | None) -> str:
    """The algorithm X-Twilio-Webhooks-Signature-Settings names (`key=...,algorithm=HMAC_SHA256`);
    none, or no header, means the Auth Token signature, HMAC-SHA1."""
    for part in (settings_header or "").split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "algorithm" and value.strip():
            return value.strip()
    return HMAC_SHA1


def _other_port_form(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a host or port no client sends, from a forged header: no other form
        return url
    default = {"https": 443, "http": 80}.get(parts.scheme)
    if port is None and default:
        return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{default}"))
    if port == default:
        return urlunsplit(parts._replace(netloc=parts.hostname or ""))
    return url


def public_url(
    path: str,
    query: str,
    headers: Mapping[str, str],
    scheme: str,
    base_url: str | None,
) -> str:
    """The URL Twilio called, which is the URL it signed.

    With PUBLIC_BASE_URL set it is that base plus the path. Otherwise it is rebuilt from the
    request, honoring the headers a TLS-terminating proxy adds. A forged header cannot forge the
    HMAC, but it does choose which URL is checked: a webhook Twilio signed for another URL of
    the same account could then be replayed here. PUBLIC_BASE_URL pins the URL; set it in
    production.
    """
    suffix = path + (f"?{query}" if query else "")
    if base_url:
        return base_url + suffix
    proto = _first(headers.get("x-forwarded-proto")) or scheme
    host = _first(headers.get("x-forwarded-host")) or headers.get("host", "")
    port = _first(headers.get("x-forwarded-port"))
    if port and ":" not in host and port != {"https": "443", "http": "80"}.get(proto):
        host = f"{host}:{port}"
    prefix = (_first(headers.get("x-forwarded-prefix")) or "").rstrip("/")
    return f"{proto}://{host}{prefix}{suffix}"


def _first(value: str | None) -> str:
    """Proxies append to these headers; the first entry is the one the client used."""
    return value.split(",")[0].strip() if value else ""


def twiml(texts: Iterable[str]) -> str:
    """<Response> with one <Message> per SMS; an empty <Response/> says nothing."""
    body = "".join(f"<Message>{escape(text)}</Message>" for text in texts)
    return f"{XML_DECLARATION}<Response>{body}</Response>" if body else EMPTY_TWIML
