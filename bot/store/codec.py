"""Sessions and recorded answers as the strings the stores keep."""

from __future__ import annotations

import logging

from bot.models import LANGUAGES, Language, Part, Reply, Session

log = logging.getLogger("smsbot.store")

# A session is stored as one short line, fields in a fixed order after a format version:
#   "2|es|types|side_effects|2"  (language, menu, topic, next page)
# An idle session then costs well under 200 bytes in Redis, and reading one is a split.
SESSION_FORMAT = "2"


def encode_session(session: Session) -> str:
    return "|".join(
        (
            SESSION_FORMAT,
            session.language or "",
            session.menu or "",
            session.topic or "",
            str(session.page) if session.page else "",
        )
    )


def decode_session(raw: str, opted_out: bool) -> Session | None:
    if not raw:
        return Session(opted_out=True) if opted_out else None
    fields = raw.split("|")
    try:
        if fields[0] == "1":  # format 1 also kept "language chosen" and "last seen": never read
            fields = [fields[0], fields[1], *fields[3:6]]
        elif fields[0] != SESSION_FORMAT:
            raise ValueError(fields[0])
        _, language, menu, topic, page = fields
        return Session(
            language=_language(language),
            menu=menu or None,
            topic=topic or None,
            page=int(page or 0),
            opted_out=opted_out,
        )
    except ValueError:
        log.warning("discarding an unreadable session")
        return Session(opted_out=opted_out)


# A recorded answer names snippets, never text:
#   "es|topic:side_effects|topic.side_effects.1,hint.more"
# Replays re-render it, and no reply text sits in Redis.


def encode_reply(reply: Reply) -> str:
    messages = ";".join(",".join(parts) for parts in reply.messages)
    return f"{reply.language}|{reply.intent}|{messages}"


def decode_reply(recorded: str) -> Reply:
    language, intent, messages = recorded.split("|", 2)
    lang: Language = _language(language) or "en"
    parsed: tuple[tuple[Part, ...], ...] = tuple(
        tuple(message.split(",")) for message in messages.split(";") if message
    )
    return Reply(lang, parsed, intent)


def _language(code: str) -> Language | None:
    """A stored language code, or None for one this version does not serve."""
    for language in LANGUAGES:
        if code == language:
            return language
    return None
