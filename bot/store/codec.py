"""Sessions and recorded answers as the strings the stores keep."""

from __future__ import annotations

import logging

from bot.models import LANGUAGES, Language, Part, Reply, Session

log = logging.getLogger("smsbot.store")

# A session is stored as one short line, fields in a fixed order after a format version:
#   "2|es|1|types|side_effects|2|1790000000|1789999000"
#   (language, chosen, menu, topic, page, last seen, last safety reply). Format 1 had no
#   last field and is still read.
# An idle session then costs well under 200 bytes in Redis, and reading one is a split.
SESSION_FORMAT = "2"
READABLE_FORMATS = {"1": 7, "2": 8}  # format -> number of fields
LANGUAGE_CODES = {"en": "en", "es": "es"}


def encode_session(session: Session) -> str:
    return "|".join(
        (
            SESSION_FORMAT,
            session.language or "",
            "1" if session.explicit else "",
            session.menu or "",
            session.topic or "",
            str(session.page) if session.page else "",
            str(session.seen) if session.seen else "",
            str(session.alarmed) if session.alarmed else "",
        )
    )


def decode_session(raw: str, opted_out: bool) -> Session | None:
    if not raw:
        return Session(opted_out=True) if opted_out else None
    fields = raw.split("|")
    try:
        if READABLE_FORMATS.get(fields[0]) != len(fields):
            raise ValueError(fields[0])
        _, language, explicit, menu, topic, page, seen, *rest = fields
        alarmed = int(rest[0] or 0) if rest else 0
        return Session(
            language=LANGUAGE_CODES.get(language),  # type: ignore[arg-type]
            explicit=explicit == "1",
            menu=menu or None,
            topic=topic or None,
            page=int(page or 0),
            seen=int(seen or 0),
            opted_out=opted_out,
            alarmed=alarmed,
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
    lang: Language = language if language in LANGUAGES else "en"  # type: ignore[assignment]
    parsed: tuple[tuple[Part, ...], ...] = tuple(
        tuple(message.split(",")) for message in messages.split(";") if message
    )
    return Reply(lang, parsed, intent)
