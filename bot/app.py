"""Build the running pieces from settings: content, keywords, router, store, conversation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from bot.catalog.check import budget_problems, check_data, measure_replies
from bot.catalog.files import read_yaml
from bot.catalog.model import CatalogData, Structure
from bot.clinic import ClinicDetails
from bot.config import Settings
from bot.content import Content
from bot.conversation import Conversation, ServingCatalog
from bot.errors import CatalogError
from bot.insights import ClinicDay, InsightsKeys, InsightsRecorder, Vocabulary
from bot.keywords import Keywords
from bot.metrics import Metrics
from bot.models import Language
from bot.redis import connect
from bot.router import Router
from bot.store import Limits, SessionStore
from bot.store.keys import Keys
from bot.store.memory import MemoryStore
from bot.store.redis import RedisStore
from bot.understanding.reading import Examples, Understanding

if TYPE_CHECKING:
    from bot.callbacks.desk import CallbackDesk

log = logging.getLogger("smsbot")

T = TypeVar("T")


@dataclass
class Bot:
    settings: Settings
    store: SessionStore
    conversation: Conversation
    metrics: Metrics
    # Catalog builds run here, not in the loop's default executor: the loop joins that one when
    # it closes, so a build still running (seconds on a busy machine) would hold up shutdown.
    _builder: ThreadPoolExecutor | None = field(default=None, repr=False)

    @property
    def callbacks(self) -> CallbackDesk | None:
        return self.conversation.callbacks

    @property
    def insights(self) -> InsightsRecorder | None:
        return self.conversation.insights

    @property
    def content(self) -> Content:
        return self.conversation.catalog.content

    @property
    def catalog_version(self) -> int:
        """0: the files; N: version N published from the staff console."""
        return self.conversation.catalog.version

    def content_for(self, data: CatalogData) -> Content:
        """A catalog's texts, ready to send with this deployment's clinic details."""
        return Content(
            self.content.structure,
            {language: data.texts(language) for language in self.content.languages},
            {
                language: clinic_details(self.settings).for_locale(locale)
                for language, locale in locales(self.settings).items()
            },
        )

    def prepare_catalog(self, data: CatalogData) -> tuple[Content, Keywords]:
        """The catalog ready to serve, or CatalogError when it does not pass the catalog check
        against this deployment's menus and clinic details. Slow: it renders every reply."""
        report = check_data(
            data, self.content.structure, clinic_details(self.settings), locales(self.settings)
        )
        if not report.ok:
            more = f" (and {len(report.errors) - 3} more)" if len(report.errors) > 3 else ""
            raise CatalogError("; ".join(report.errors[:3]) + more)
        return self.content_for(data), Keywords.from_data(data.keywords)

    async def use_catalog(self, data: CatalogData, version: int) -> None:
        """Switch to another catalog between two messages: a publish reaching this process.

        Checked in a worker thread, so that messages keep being answered meanwhile; raises
        CatalogError, and keeps serving the current catalog, when the check fails.
        """
        content, keywords = await self._built(lambda: self.prepare_catalog(data))
        router = self.conversation.catalog.router
        understanding = router.understanding
        if understanding is not None:
            current = understanding
            examples = Examples.from_data(data.examples) if data.examples else None
            topics = ranked_topics(current, content)
            understanding = await self._built(
                lambda: current.with_topics(data.keywords, topics, examples)
            )
        # One assignment: a message being answered keeps the catalog it started with.
        self.conversation.catalog = ServingCatalog(
            content, router.serving(keywords, understanding), version
        )
        log.info("now serving catalog version %d (%s)", version, content.version)

    async def _built(self, build: Callable[[], T]) -> T:
        if self._builder is None:
            self._builder = ThreadPoolExecutor(1, thread_name_prefix="smsbot-catalog")
        return await asyncio.get_running_loop().run_in_executor(self._builder, build)

    def stop_building(self) -> None:
        """Let go of a catalog build in progress: its result is not wanted any more, and
        shutdown does not wait for it. A later publish starts a new builder."""
        if self._builder is not None:
            self._builder.shutdown(wait=False, cancel_futures=True)
            self._builder = None


def clinic_details(settings: Settings) -> ClinicDetails:
    return ClinicDetails(
        settings.program_name,
        settings.clinic_phone,
        settings.clinic_hours,
        settings.after_hours_phone,
        settings.financial_counselor_phone,
        settings.program_name_es,
    )


def locales(settings: Settings) -> dict[Language, str]:
    return {"en": settings.locale_en, "es": settings.locale_es}


def load_content(settings: Settings) -> Content:
    return Content.load(
        settings.messages_dir, settings.locales_dir, clinic_details(settings), locales(settings)
    )


def make_insights(settings: Settings) -> InsightsRecorder | None:
    """Aggregate counters for /staff/insights; they need Redis, where the console is too."""
    if not (settings.redis_url and settings.insights):
        return None
    languages = (settings.locale_en.split("_")[0], settings.locale_es.split("_")[0])
    return InsightsRecorder(
        InsightsKeys(settings.redis_key_prefix),
        Vocabulary.from_wordfreq(languages),
        ClinicDay(settings.clinic_timezone),
    )


def make_store(
    settings: Settings,
    metrics: Metrics | None = None,
    insights: InsightsRecorder | None = None,
) -> SessionStore:
    keys = Keys(settings.redis_key_prefix)
    limits = Limits(
        session_ttl=settings.session_ttl_seconds,
        answer_ttl=settings.replay_ttl_seconds,
        flood_window=settings.flood_window_seconds,
        flood_limit=settings.flood_limit,
    )
    if settings.redis_url:
        return RedisStore(
            connect(settings, purpose="webhook"),
            keys,
            limits,
            timeout=settings.redis_timeout_seconds,
            on_round_trip=metrics.round_trips.inc if metrics else lambda: None,
            riders=insights.take if insights else list,
        )
    log.warning(
        "REDIS_URL is not set: sessions live in this process only (single process, lost on restart)"
    )
    return MemoryStore(keys, limits)


def keywords_data(settings: Settings) -> dict[str, Any]:
    data = read_yaml(settings.messages_dir / "keywords.yaml")
    return data if isinstance(data, dict) else {}


def load_understanding(
    settings: Settings, structure: Structure, keywords: Mapping[str, Any]
) -> Understanding:
    """Safety concepts, drug names, menu words and the topic ranker, from messages/."""
    return Understanding.load(settings.messages_dir, keywords, structure.topics, all_examples=True)


def ranked_topics(understanding: Understanding, content: Content) -> set[str]:
    """The menus' topics, and those with examples but no page yet (see load_understanding)."""
    return {*content.structure.topics, *understanding.examples.topics}


def _warn_over_budget(content: Content) -> None:
    """The catalog check passed with some clinic details; this run's may be longer."""
    for problem in budget_problems(measure_replies(content)):
        log.warning("over the SMS budget with this PROGRAM_NAME/CLINIC_*: %s", problem)


def build_bot(settings: Settings, store: SessionStore | None = None) -> Bot:
    """Load and check everything a message needs. Raises CatalogError on unusable content."""
    content = load_content(settings)
    _warn_over_budget(content)
    keywords = Keywords.load(settings.messages_dir / "keywords.yaml")
    understanding = load_understanding(settings, content.structure, keywords_data(settings))
    router = Router(
        keywords,
        content.structure,
        settings.default_language,
        flood_limit=settings.flood_limit,
        callbacks=settings.callbacks,
        understanding=understanding,
    )
    metrics = Metrics()
    insights = make_insights(settings) if store is None else None
    store = store or make_store(settings, metrics, insights)
    from bot.callbacks.build import make_desk  # only deployments with CALLBACKS use it

    desk = make_desk(settings, metrics)
    catalog = ServingCatalog(content, router, version=0)
    conversation = Conversation(catalog, store, metrics, insights=insights, callbacks=desk)
    return Bot(settings, store, conversation, metrics)
