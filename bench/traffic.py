"""Realistic inbound traffic, signed the way Twilio signs it.

Many senders, both languages, the keyword mix a clinic sees, numbers after menus, MORE, typos,
and (about half) sentences as patients write them, with a little junk. Every request has a fresh
MessageSid.
"""

from __future__ import annotations

import random
import uuid
from pathlib import Path
from urllib.parse import urlencode

from bot.webhook.twilio import signature

# Sentences as patients and caregivers write them: questions, reports, drug names, Spanglish.
SENTENCES = [
    "what is immunotherapy exactly",
    "is it the same thing as chemo?",
    "my mom starts keytruda next week what should we expect",
    "will i lose my hair",
    "how often do i get the infusion",
    "can i keep working while im on this",
    "does insurance pay for it",
    "how long does it take to start working",
    "can i get my flu shot",
    "my husband gets opdivo, can he drink beer",
    "i have a rash on my arms since yesterday",
    "my dad has had diarrhea 4 times today",
    "when should i call the doctor",
    "can a nurse call me back",
    "what cancers does it work for",
    "is there a clinical trial for lung cancer",
    "q es la inmunoterapia",
    "es lo mismo que la quimio?",
    "se me va a caer el pelo",
    "cada cuanto me ponen el suero",
    "mi mama tiene fiebre desde anoche",
    "tengo diarrea y dolor de panza",
    "cuanto cuesta el tratamiento, no tengo seguro",
    "puedo trabajar con la inmunoterapia",
    "me puedo vacunar contra la gripe",
    "quiero que me llame una enfermera",
    "mi esposo esta en keytruda y tiene side effects",
    "que efectos secundarios tiene",
    "estoy embarazada, puedo recibirla",
    "cura el cancer?",
]

# (weight, texts): roughly what an information line receives; about half are sentences
MIX: list[tuple[int, list[str]]] = [
    (7, ["MENU", "menu", "Hi", "hola", "MENÚ"]),
    (11, ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "#2", "opción 3", "two", "dos"]),
    (7, ["MORE", "more", "MÁS", "mas"]),
    (5, ["TYPES", "SIDE EFFECTS", "CALL", "CURE", "QUESTIONS", "HELP"]),
    (5, ["TIPOS", "EFECTOS", "LLAMAR", "AYUDA", "PREGUNTAS", "efectos secundarios"]),
    (4, ["side efects", "tyeps", "lamar", "efectos secundaios", "sied effects", "preguntsa"]),
    (45, SENTENCES),
    (2, ["ESPAÑOL", "ENGLISH", "spanish"]),
    (4, ["ok", "thanks!", "👍", "gracias", "asdkjh", "?"]),
    (1, ["I have chest pain", "no puedo respirar", "me duele mucho el pecho"]),
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
