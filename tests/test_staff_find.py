"""Finding a text, approving drafts one by one, and a restore that shows first, as a nurse
and a reviewer would use them."""

from __future__ import annotations

import redis
from fastapi.testclient import TestClient

from bot.store.keys import StaffKeys
from tests.helpers.console import Staff, drafted, signed_in, spanish
from tests.helpers.phone import bot_of

SIGNS = "topic.side_effects.signs_more"


def test_find_a_spanish_word_and_see_where_the_text_is(editor: Staff) -> None:
    page = editor.get("/staff/?q=fiebre").text
    assert f'href="/staff/snippet/{SIGNS}"' in page
    assert "When to call, page 3 of 6" in page and "Also in Side effects, page 4" in page
    assert page.count('class="card snippet"') < 10  # a few texts, not the whole catalog


def test_a_typo_is_forgiven_and_said(editor: Staff) -> None:
    page = editor.get("/staff/?q=diarea").text
    assert "diarrea" in page and "nothing had" in page


def test_the_first_page_is_an_index_not_every_text(editor: Staff) -> None:
    page = editor.get("/staff/").text
    assert 'href="/staff/?topic=side_effects"' in page and "Menus and replies" in page
    assert 'class="card snippet"' not in page


def test_a_topic_lists_its_pages_shared_ones_included(editor: Staff) -> None:
    page = editor.get("/staff/?topic=call").text
    assert f'href="/staff/snippet/{SIGNS}"' in page and "topic.call.1" in page
    assert "topic.cure.1" not in page


def test_filters_count_and_list_drafts(console: TestClient, editor: Staff) -> None:
    english = bot_of(console).content.text("en", SIGNS)
    editor.post(f"/staff/snippet/{SIGNS}", {"en": english, "es": spanish(console, SIGNS) + " Ya."})
    page = editor.get("/staff/?show=drafts").text
    assert "Drafts: 1 text(s)" in page and f'href="/staff/snippet/{SIGNS}"' in page


def test_an_untouched_textarea_sent_with_crlf_is_no_draft(
    console: TestClient, editor: Staff
) -> None:
    english = bot_of(console).content.text("en", SIGNS)
    es = spanish(console, SIGNS)
    form = {"en": english.replace("\n", "\r\n") + "\r\n", "es": es.replace("\n", "\r\n") + " Más."}
    editor.post(f"/staff/snippet/{SIGNS}", form)
    review = signed_in(console, "rita").get("/staff/review").text
    assert review.count('class="card change"') == 1  # the Spanish only (B5)
    assert "\r" not in "".join(drafted(review))


def test_saving_a_draft_too_long_to_publish_says_so_in_words(
    console: TestClient, editor: Staff
) -> None:
    english = bot_of(console).content.text("en", SIGNS)
    long_es = spanish(console, SIGNS) + "\n- fiebre de 38 °C (100.4 °F) o más" * 3
    page = editor.post(f"/staff/snippet/{SIGNS}", {"en": english, "es": long_es}).text
    assert "Saved as a draft, but it cannot be published yet." in page
    assert "is too long to publish" in page and "Remove about" in page and "avoid" in page


def test_each_draft_is_published_or_sent_back_on_its_own(
    console: TestClient, editor: Staff
) -> None:
    cure_en = bot_of(console).content.text("en", "topic.cure.1")
    editor.post("/staff/snippet/topic.cure.1", {"en": cure_en, "es": "Texto nuevo uno."})
    signs_en = bot_of(console).content.text("en", SIGNS)
    editor.post(f"/staff/snippet/{SIGNS}", {"en": signs_en, "es": "Texto nuevo dos."})
    reviewer = signed_in(console, "rita")
    fields = reviewer.form("/staff/review", "/staff/publish")
    response = reviewer.post(
        "/staff/publish",
        {**fields, f"choice:t|es|{SIGNS}": "back", "back_note": "Keep the fever line"},
    )
    assert response.status_code == 200
    review = reviewer.get("/staff/review").text
    assert review.count('class="card change"') == 1  # the other one was published
    assert "Sent back by rita: Keep the fever line" in review
    history = reviewer.get("/staff/history").text
    assert "topic.cure.1 (es)" in history and f"{SIGNS} (es)" not in history


def test_a_restore_shows_the_old_text_and_asks_first(
    console: TestClient, rdb: redis.Redis, prefix: str
) -> None:
    reviewer = signed_in(console, "rita")
    english = bot_of(console).content.text("en", SIGNS)
    reviewer.post(f"/staff/snippet/{SIGNS}", {"en": english, "es": "Texto nuevo."})
    reviewer.publish("new")
    unconfirmed = reviewer.post("/staff/restore/0", {"version": "1"}, follow_redirects=False)
    assert unconfirmed.headers["location"] == "/staff/version/0"
    assert rdb.get(StaffKeys(prefix).version) == "1"  # nothing restored yet
    page = reviewer.get("/staff/version/0").text
    assert "Yes, restore version 0" in page and "When to call, page 3 of 6" in page
    assert "fiebre" in page  # what version 0 said
