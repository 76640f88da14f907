"""A terminal conversation with the bot, as a patient would have it."""

from __future__ import annotations

import uuid

import click

from bot.app import build_bot
from bot.config import Settings
from bot.models import Inbound
from bot.privacy import sender_key
from bot.sms import measure


def describe(text: str) -> str:
    cost = measure(text)
    plural = "" if cost.segments == 1 else "s"
    return f"[{cost.characters} chars, {cost.encoding}, {cost.segments} segment{plural}]"


async def run_chat(settings: Settings, sender: str, country: str) -> None:
    bot = build_bot(settings)
    key = sender_key(sender, settings.hash_key)
    click.echo(
        f"Texting {settings.program_name} as {sender} (store: {bot.store.name}). "
        "Type a message; an empty line or Ctrl-D ends."
    )
    try:
        while True:
            try:
                body = input("you> ")
            except EOFError:
                break
            if not body.strip():
                break
            inbound = Inbound(key, "SM" + uuid.uuid4().hex, body, from_country=country)
            answer = await bot.conversation.handle(inbound)
            if not answer.texts:
                click.echo("bot: (no reply)")
            for text in answer.texts:
                click.echo(f"bot {describe(text)}:\n{text}\n")
    finally:
        await bot.store.close()
