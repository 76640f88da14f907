"""The smsbot command: thin commands over the functions that do the work."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from bot import metrics
from bot.app import clinic_details, locales
from bot.catalog.model import CatalogData
from bot.config import PROJECT_ROOT, Settings, load_settings, signed_url_notice
from bot.errors import SmsbotError
from bot.models import LANGUAGES, ROLES

if TYPE_CHECKING:
    from bot.catalog.provenance import SignOff
    from bot.console.accounts import Accounts

LOOPBACK = "127.0.0.1"
T = TypeVar("T")


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SmsbotError as exc:
        raise click.ClickException(str(exc)) from exc
    except ValueError as exc:  # pydantic's validation error
        raise click.ClickException(f"configuration: {exc}") from exc


@click.group()
@click.version_option(package_name="smsbot")
def main() -> None:
    """smsbot: a bilingual SMS information line about cancer immunotherapy."""


@main.command()
@click.option("--host", default=LOOPBACK, show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--log-level", default="info", show_default=True)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, log_level: str, workers: int) -> None:
    """Run the webhook (and, in local mode, the browser simulator)."""
    import uvicorn

    from bot.server import uvicorn_options
    from bot.webhook.asgi import configure_logging, create_app

    configure_logging(log_level)
    settings = _settings()
    logging.getLogger("smsbot.config").log(*signed_url_notice(settings))
    if settings.local_mode and not _is_loopback(host):
        raise click.ClickException(
            "TWILIO_AUTH_TOKEN is not set, so this is local mode, which only listens on loopback. "
            "Set TWILIO_AUTH_TOKEN (and SESSION_HASH_KEY) to serve on other addresses."
        )
    if workers > 1 and (settings.local_mode or not settings.redis_url):
        raise click.ClickException(
            "several workers share sessions through Redis: set REDIS_URL and TWILIO_AUTH_TOKEN"
        )
    try:
        app = create_app(settings)  # load and check everything once, before any worker starts
    except SmsbotError as exc:
        raise click.ClickException(str(exc)) from exc
    if settings.local_mode:
        click.echo(
            f"Local mode: no TWILIO_AUTH_TOKEN, so one was made up for this run.\n"
            f"Try the bot in a browser: http://{host}:{port}/   (or: smsbot chat)"
        )
    # No access log (it would carry nothing the metrics lack); no Server or Date header (Twilio
    # reads neither): less work on every text.
    options = {
        **uvicorn_options(settings),
        "host": host,
        "port": port,
        "log_level": log_level,
        "access_log": False,
        "server_header": False,
        "date_header": False,
    }
    _listen_for_metrics(settings, app.state.bot.metrics)

    def run(target: object, workers: int | None = None) -> None:
        uvicorn.run(
            target,  # type: ignore[arg-type]  # an app, or with workers the factory's import path
            factory=workers is not None,
            workers=workers,
            **options,
        )

    if workers == 1:
        run(app)
        return
    with _shared_metrics_directory():
        os.environ["SMSBOT_LOG_LEVEL"] = log_level
        run("bot.webhook.asgi:app_from_environment", workers=workers)


def _listen_for_metrics(settings: Settings, counters: metrics.Metrics) -> None:
    """One metrics listener for the whole server; with several workers it adds up their files.
    Metrics matter less than answering patients: a busy address is logged, not fatal."""
    if settings.metrics_addr.strip().lower() in ("", "off", "none"):
        return
    try:
        server = metrics.listen(settings.metrics_addr, counters)
    except (OSError, ValueError) as exc:
        logging.getLogger("smsbot.metrics").error(
            "no metrics listener on %s: %s", settings.metrics_addr, exc
        )
        return
    host, port = server.server_address[:2]
    logging.getLogger("smsbot.metrics").info("metrics on http://%s:%s/metrics", host, port)


@contextmanager
def _shared_metrics_directory() -> Iterator[None]:
    """Workers write their counters to files here, so /metrics adds up every worker."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        yield
        return
    with tempfile.TemporaryDirectory(prefix="smsbot-metrics-") as directory:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        try:
            yield
        finally:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]


@main.command()
@click.option("--lang", type=click.Choice(LANGUAGES), help="Language for a new conversation.")
@click.option("--from", "sender", default="+15551230000", show_default=True, help="Sender number.")
@click.option("--country", default="US", show_default=True, help="FromCountry as Twilio sends it.")
def chat(lang: str | None, sender: str, country: str) -> None:
    """Text the bot from the terminal, through the same code as the webhook."""
    from bot.chat import run_chat

    overrides = {"default_language": lang} if lang else {}
    settings = _settings(**overrides)
    _run(run_chat(settings, sender, country))


@main.command()
@click.argument("number")
def forget(number: str) -> None:
    """Delete what the bot keeps about NUMBER (asked by phone or in person); keep any opt-out."""
    from bot.app import make_store
    from bot.privacy import sender_key

    settings = _settings()
    if settings.local_mode or not settings.redis_url:
        raise click.ClickException(
            "forget needs the production settings: "
            "TWILIO_AUTH_TOKEN, SESSION_HASH_KEY and REDIS_URL"
        )
    senders = [sender_key(number, settings.hash_key)]
    if settings.previous_hash_key:
        senders.append(sender_key(number, settings.previous_hash_key))

    async def run() -> None:
        store = make_store(settings)
        try:
            for sender in senders:
                await store.forget(sender)
            if settings.callbacks:  # and a nurse callback request, number included
                await _withdraw_callbacks(settings, senders)
        finally:
            await store.close()

    _run(run())
    click.echo("Deleted the session kept for that number. An opt-out, if any, is kept.")


async def _withdraw_callbacks(settings: Settings, senders: list[str]) -> None:
    import time

    from bot.callbacks.build import queue_client
    from bot.callbacks.queue import CallbackQueue

    client = queue_client(settings)
    try:
        queue = CallbackQueue(client, settings.redis_key_prefix, settings.callback_max_age_days)
        for sender in senders:
            await queue.withdraw(sender, int(time.time()))
    finally:
        await client.aclose()


@main.group()
def staff() -> None:
    """Staff console accounts."""


@staff.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
def staff_add(name: str, role: str) -> None:
    """Create the account NAME: an editor drafts, a reviewer also publishes and works
    callbacks, a nurse works the callback queue (CALLBACKS=true) and nothing else.

    The password is asked for, or read from the first line of standard input when that is not
    a terminal (never from the command line, where shell history and `ps` would keep it).
    """
    password = _read_password()
    _with_accounts(lambda accounts: accounts.add(name, role, password))
    click.echo(f"{name.strip().lower()} can now sign in at /staff as {role}.")


@staff.command("password")
@click.argument("name")
def staff_password(name: str) -> None:
    """Set a new password for NAME (asked for, or read from standard input); every session
    of NAME ends at once."""
    password = _read_password()
    ended = _with_accounts(lambda accounts: accounts.set_password(name, password))
    click.echo(f"New password set for {name}; {ended} session(s) ended.")


@staff.command("list")
def staff_list() -> None:
    """Every account, its role, and whether it is disabled."""
    for name, role, disabled in _with_accounts(lambda accounts: accounts.all()):
        click.echo(f"{name:<24} {role:<9} {'disabled' if disabled else ''}".rstrip())


@staff.command("disable")
@click.argument("name")
def staff_disable(name: str) -> None:
    """Stop NAME signing in, and end its sessions now (`staff enable` undoes it)."""
    ended = _with_accounts(lambda accounts: accounts.disable(name))
    click.echo(f"{name} is disabled; {ended} session(s) ended.")


@staff.command("enable")
@click.argument("name")
def staff_enable(name: str) -> None:
    """Let a disabled NAME sign in again."""
    _with_accounts(lambda accounts: accounts.enable(name))
    click.echo(f"{name} can sign in again.")


@staff.command("remove")
@click.argument("name")
def staff_remove(name: str) -> None:
    """Delete the account NAME and end its sessions; the audit trail keeps its entries."""
    ended = _with_accounts(lambda accounts: accounts.remove(name))
    click.echo(f"{name} is removed; {ended} session(s) ended.")


def _read_password() -> str:
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


def _with_accounts(action: Callable[[Accounts], Awaitable[T]]) -> T:
    """Run `action` on the accounts in this deployment's Redis."""
    from bot.console.accounts import Accounts
    from bot.redis import connect
    from bot.store.keys import StaffKeys

    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException("staff accounts live in Redis: set REDIS_URL")

    async def run() -> T:
        client = connect(settings, purpose="cli")
        try:
            return await action(Accounts(client, StaffKeys(settings.redis_key_prefix)))
        finally:
            await client.aclose()

    return _run(run())


@main.group()
def callbacks() -> None:
    """The nurse callback queue (CALLBACKS=true)."""


@callbacks.command("new-key")
def callbacks_new_key() -> None:
    """Print a new random CALLBACK_KEY (32 bytes, URL-safe base64) for the environment."""
    from bot.config import new_callback_key

    click.echo(new_callback_key())


@main.group()
def understand() -> None:
    """Measure how well free text is understood."""


@understand.command("eval")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--floors", is_flag=True, help="Exit 1 when a file is below the floors.")
@click.option("--misses", is_flag=True, help="Also list each message the reply got wrong.")
def understand_eval(files: tuple[Path, ...], floors: bool, misses: bool) -> None:
    """Top-1/top-3 per language, emergency and urgent recall, false alarms, per file."""
    from bot.app import build_bot
    from bot.understanding import evaluate as ev

    bot = build_bot(_settings())
    router = bot.conversation.router
    paths = files or tuple(sorted((PROJECT_ROOT / "tests/data/understanding").glob("*.yaml")))
    failed = []
    for path in paths:
        items, recall_only = ev.load_set(path)
        ev.resolve_menu_items(router, items)
        tally = ev.evaluate(router, items)
        click.echo("\n".join(ev.summary(path.name, tally)))
        if misses:
            for miss in tally.misses:
                click.echo(
                    f"    {miss.measure}: {miss.text!r} expected {miss.expected}, got {miss.got}"
                )
        failed += [f"{path.name}: {p}" for p in ev.below_floors(tally, recall_only)]
    for problem in failed:
        click.echo(f"below the floor: {problem}", err=True)
    if floors and failed:
        sys.exit(1)


@main.group()
def catalog() -> None:
    """Check, update and compile the message catalogs."""


@catalog.command("check")
@click.option("--quiet", is_flag=True, help="Only problems and the summary.")
def catalog_check(quiet: bool) -> None:
    """Find anything that would give a patient a wrong, missing or too long message."""
    from bot.catalog import tools
    from bot.catalog.check import check

    settings = _settings()
    report = check(
        settings.messages_dir, settings.locales_dir, clinic_details(settings), locales(settings)
    )
    if not quiet:
        click.echo(f"{'reply':<34} {'lang':<4} {'chars':>5} {'encoding':<8} {'seg':>3}  reading")
        for line in report.lines:
            flag = f"  UCS-2 because of: {' '.join(line.ucs2)}" if line.ucs2 else ""
            click.echo(
                f"{line.name:<34} {line.language:<4} {line.characters:>5} {line.encoding:<8} "
                f"{line.segments:>3}  {line.score}{flag}"
            )
    for summary_line in tools.summary(report):
        click.echo(summary_line)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if not report.ok:
        raise click.ClickException(f"{len(report.errors)} problem(s) found")
    click.echo("catalog check passed")


@catalog.command("update")
def catalog_update() -> None:
    """Bring the translations in line with the English source (changed English becomes fuzzy)."""
    from bot.catalog import tools

    settings = _settings()
    try:
        changes = tools.update(settings.messages_dir, settings.locales_dir)
    except SmsbotError as exc:
        raise click.ClickException(str(exc)) from exc
    for change in changes:
        click.echo(change)
    click.echo(
        f"{len(changes)} change(s); translations needing work show in `smsbot catalog check`"
    )


@catalog.command("compile")
def catalog_compile() -> None:
    """Build the .mo files the app reads; refused while `catalog check` finds problems."""
    from bot.catalog import tools
    from bot.catalog.check import check

    settings = _settings()
    report = check(
        settings.messages_dir, settings.locales_dir, clinic_details(settings), locales(settings)
    )
    if not report.ok:
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        raise click.ClickException("not compiled: fix the problems above first")
    for path in tools.compile_catalogs(settings.locales_dir):
        click.echo(f"compiled {path}")


@catalog.command("export")
def catalog_export() -> None:
    """Write the published catalog into messages/ and locales/, and the clinical sign-offs
    made in the console into messages/sources.yaml, to commit them."""
    from bot.catalog import export
    from bot.console.sign_offs import SignOffs
    from bot.console.versions import catalog_versions
    from bot.redis import connect
    from bot.store.keys import StaffKeys

    settings = _settings()
    if not settings.redis_url:
        raise click.ClickException("published catalogs live in Redis: set REDIS_URL")

    async def run() -> tuple[int, CatalogData, list[SignOff]]:
        client = connect(settings, purpose="cli")
        try:
            number, data = await catalog_versions(settings, client).current()
            signed = await SignOffs(client, StaffKeys(settings.redis_key_prefix)).all()
            return number, data, signed
        finally:
            await client.aclose()

    number, data, signed = _run(run())
    for path in export.write_files(data, settings.messages_dir, settings.locales_dir):
        click.echo(f"wrote {path}")
    if signed:
        try:
            path = export.write_sign_offs(signed, settings.messages_dir)
        except SmsbotError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"wrote {path} ({len(signed)} sign-off(s))")
    click.echo(f"exported published version {number}; run `smsbot catalog compile` next")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run an async command; our errors become a clear message and a non-zero exit."""
    try:
        return asyncio.run(coroutine)
    except SmsbotError as exc:
        raise click.ClickException(str(exc)) from exc


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


if __name__ == "__main__":
    sys.exit(main())
