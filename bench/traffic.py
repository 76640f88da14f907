"""Realistic inbound traffic, signed the way Twilio signs it.

Many senders, both languages, the keyword mix a clinic sees, numbers after menus, MORE, typos,
plain questions and a little junk. Every request has a fresh MessageSid.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from urllib.parse import urlencode

from bot.webhook.twilio import signature

# (weight, texts): roughly what an information line receives
MIX: list[tuple[int, list[str]]] = [
    (14, ["MENU", "menu", "Hi", "hola", "MENÚ"]),
    (22, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "#2", "opción 3"]),
    (14, ["MORE", "more", "MÁS", "mas"]),
    (10, ["TYPES", "SIDE EFFECTS", "CALL", "CURE", "QUESTIONS", "HELP"]),
    (10, ["TIPOS", "EFECTOS", "LLAMAR", "AYUDA", "PREGUNTAS", "efectos secundarios"]),
    (8, ["side efects", "tyeps", "lamar", "efectos secundaios", "sied effects", "preguntsa"]),
    (
        10,
        [
            "what are the side effects?",
            "quiero hablar con alguien",
            "is immunotherapy a cure?",
            "how is it given",
            "¿qué tipos de cáncer trata?",
            "can I talk to a nurse tomorrow",
            "Tengo preguntas sobre mi tratamiento",
        ],
    ),
    (4, ["ESPAÑOL", "ENGLISH", "spanish"]),
    (5, ["ok", "thanks!", "👍", "gracias", "asdkjh", "?"]),
    (1, ["I have chest pain", "no puedo respirar"]),
    (1, ["STOP", "START"]),
]


def senders(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [f"+1{rng.randrange(200, 999)}{rng.randrange(10**7):07d}" for _ in range(count)]


def body(rng: random.Random) -> str:
    weights = [weight for weight, _ in MIX]
    (texts,) = rng.choices([texts for _, texts in MIX], weights=weights)
    return rng.choice(texts)


def write_requests(
    path: Path, url: str, token: str, count: int, sender_count: int = 10_000, seed: int = 1
) -> None:
    """One line per request: signature TAB form body."""
    rng = random.Random(seed)
    numbers = senders(sender_count)
    with path.open("w", encoding="utf-8") as out:
        for _ in range(count):
            number = rng.choice(numbers)
            form = {
                "ToCountry": "US",
                "SmsMessageSid": (sid := f"SM{uuid.UUID(int=rng.getrandbits(128)).hex}"),
                "NumMedia": "0",
                "SmsSid": sid,
                "SmsStatus": "received",
                "Body": body(rng),
                "FromCountry": "MX" if number.endswith(("1", "2")) else "US",
                "To": "+15550000000",
                "NumSegments": "1",
                "MessageSid": sid,
                "AccountSid": "AC" + "1" * 32,
                "From": number,
                "ApiVersion": "2010-04-01",
            }
            out.write(f"{signature(token, url, form)}\t{urlencode(form)}\n")
