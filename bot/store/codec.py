"""Sessions and recorded answers as the strings the stores keep."""

from __future__ import annotations

import logging

from bot.models import LANGUAGES, Language, Part, Reply, Session

log = logging.getLogger("smsbot.store")

# A session is stored as one short line, fields in a fixed order after a format version:
#   "3|es|1|types|side_effects|2|1790000000|1|what side_effects"
#   (language, language chosen, menu, topic, next page, last safety reply, may have a callback
#   request, topics read)
# An idle session then costs well under 200 bytes in Redis, and reading one is a split.
SESSION_FORMAT = "3"


def encode_session(session: Session) -> str:
    return "|".join(
        (
            SESSION_FORMAT,
            session.language or "",
            "1" if session.explicit else "",
            session.menu or "",
            session.topic or "",
            str(session.page) if session.page else "",
            str(session.alarmed) if session.alarmed else "",
            "1" if session.callback else "",
            " ".join(session.read),
        )
    )


def decode_session(raw: str, opted_out: bool) -> Session | None:
    if not raw:
        return Session(opted_out=True) if opted_out else None
    try:
        fields = _current_fields(raw.split("|"))
        language, explicit, menu, topic, page, alarmed, callback, read = fields
        return Session(
            language=_language(language),
            explicit=explicit == "1",
            menu=menu or None,
            topic=topic or None,
            page=int(page or 0),
            opted_out=opted_out,
            alarmed=int(alarmed or 0),
            callback=callback == "1",
            read=tuple(read.split()),
        )
    except ValueError:
        log.warning("discarding an unreadable session")
        return Session(opted_out=opted_out)


def _current_fields(fields: list[str]) -> tuple[str, str, str, str, str, str, str, str]:
    """The fields of format 3 from any format still in Redis (older ones are read, never written):
    1: language, chosen, menu, topic, page, last seen
    2 (5 fields): language, menu, topic, page
    2 (8 fields): language, chosen, menu, topic, page, last seen, last safety reply
    3 without the last two fields: written before the callback queue's."""
    version, rest = fields[0], fields[1:]
    if version == SESSION_FORMAT and len(rest) in (6, 8):
        language, explicit, menu, topic, page, alarmed, *queue = rest
        callback, read = queue or ["", ""]
        return language, explicit, menu, topic, page, alarmed, callback, read
    if version == "2" and len(rest) == 4:
        language, menu, topic, page = rest
        return language, "", menu, topic, page, "", "", ""
    if version == "2" and len(rest) == 7:
        language, explicit, menu, topic, page, _seen, alarmed = rest
        return language, explicit, menu, topic, page, alarmed, "", ""
    if version == "1" and len(rest) == 6:
        language, explicit, menu, topic, page, _seen = rest
        return language, explicit, menu, topic, page, "", "", ""
    raise ValueError(version)


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
