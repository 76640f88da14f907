"""Every worker follows the published catalog: a new version is served without a restart."""

from __future__ import annotations

import asyncio
import logging

from redis.exceptions import RedisError

from bot.app import Bot
from bot.console.versions import CatalogVersions
from bot.errors import CatalogError
from bot.redis import stop_if_cancelled

log = logging.getLogger("smsbot.catalog")


async def follow_published(bot: Bot, versions: CatalogVersions, once: bool = False) -> None:
    """Serve the newest published catalog: checked every CATALOG_POLL_SECONDS, no restart.

    A version this deployment cannot serve (it fails the catalog check on these files, or
    cannot be read) is reported once and skipped: the current catalog stays, and the next
    publish is picked up as usual. Nothing stops the loop but cancellation.
    """
    refused = -1
    while True:
        number = -1
        try:
            number = await versions.current_number()
            if number not in (bot.catalog_version, refused):
                await bot.use_catalog(await versions.load(number), number)
        except (RedisError, OSError) as exc:
            stop_if_cancelled()
            log.warning("could not check for a newly published catalog (%s)", type(exc).__name__)
        except (CatalogError, LookupError, ValueError, TypeError) as exc:
            # Not servable here: fails the check on these files (CatalogError), is missing
            # (LookupError) or is not a snapshot this code can read (JSON or shape).
            refused = number
            log.error(
                "cannot serve published catalog version %d, still serving version %d: %s: %s",
                number,
                bot.catalog_version,
                type(exc).__name__,
                exc,
            )
        if once:
            return
        stop_if_cancelled()
        await asyncio.sleep(bot.settings.catalog_poll_seconds)
