"""What a webhook's fields must look like once its signature has been checked.

Twilio's signature is an HMAC over the URL and then each field's name followed by its value,
names sorted, with nothing in between. The boundaries between names and values are therefore
not signed: from one captured request, `MessageSid=SM…` can be re-sent as `Message=SidSM…`, or
`MessageSid=SM…&NumMedia=0` as `MessageSid=SM…NumMedia0`, and the signature still verifies.
The MessageSid is what recognises a retry, so a re-split request would count as a new message
every time (replays without end, and a flood pause of the patient's own replies). Twilio's own
fields have fixed shapes; a re-split breaks at least one of them, and such a request is refused.
"""

from __future__ import annotations

import re

from bot.webhook.twilio import Form

# Twilio's field names: MessageSid, SmsStatus, MediaUrl0, FromCountry, OptOutType, ...
FIELD_NAME = re.compile(r"[A-Z][A-Za-z0-9]*")
# SM for SMS, MM for MMS and WhatsApp media; then 32 lower-case hex digits.
MESSAGE_SID = re.compile(r"(SM|MM)[0-9a-f]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-f]{32}")
SERVICE_SID = re.compile(r"MG[0-9a-f]{32}")
# Twilio repeats the MessageSid under these older names.
SID_ALIASES = ("SmsSid", "SmsMessageSid")


def refusal(form: Form) -> str | None:
    """Why this signed form is not one Twilio sends, or None when it could be."""
    for name in form:
        if not FIELD_NAME.fullmatch(name):
            return "unexpected field name"
    sid = form.get("MessageSid")
    if not MESSAGE_SID.fullmatch(sid):
        return "missing or malformed MessageSid"
    for alias in SID_ALIASES:
        if alias in form and form.getlist(alias) != [sid]:
            return f"{alias} differs from MessageSid"
    if len(form.getlist("MessageSid")) != 1:
        return "repeated MessageSid"
    shapes = (("AccountSid", ACCOUNT_SID), ("MessagingServiceSid", SERVICE_SID))
    for name, shape in shapes:
        value = form.get(name)
        if value and not shape.fullmatch(value):
            return f"malformed {name}"
    return None
