"""The player reports how a registered article is listened to (``POST /v1/listens``), and
the editors' figures for it are exactly what a scripted playback did; text read through
``/v1/read``, which has no article id, reports nothing.

The portal's page names its article with ``data-tts-article``; the test registers that
article (the page's own text) with the editors' API, plays it in Chromium, moves the audio
to 60 % as playback would, pauses and leaves the page: the last report goes out as a beacon
on ``pagehide``. The figures are read back from the registry's database.
"""

from __future__ import annotations

import time

import httpx
import pytest

from tests.browser.support import (
    READ,
    axe_violations,
    cues_of,
    js,
    parse_vtt,
    seek_audio,
    state,
    wait_cues,
    wait_paused,
    wait_playing,
)
from tests.helpers import live_server
from tests.registry.cms import AUTH, KEYS, wait_job

LISTENS = "/v1/listens"


@pytest.fixture
def served(make_service, _portal):
    """The real app with the editors' keys, for the portal's pages; yields (URL, app)."""
    from tts_service.api.main import create_app
    from tts_service.api.routes import player
    from tts_service.engines.espeak import EspeakEngine

    portal_app, portal_base = _portal
    service = make_service(EspeakEngine(max_chars=100), cors_origins=(portal_base,), api_keys=KEYS)
    app = create_app(service.settings, service=service)
    if not any(getattr(route, "path", None) == "/demo" for route in app.routes):
        app.include_router(player.router)
    with live_server(app) as base:
        portal_app.state.site = base
        yield base, app


@pytest.fixture
def site(served):
    """This module's service (with the registry's keys) is the one the portal's pages use."""
    return served[0]


def _report(event: str):
    """Matches the answer to a listening report of ``event``."""
    return lambda answer: (
        answer.url.endswith(LISTENS) and f'"event":"{event}"' in (answer.request.post_data or "")
    )


def _register(page, base: str, article: str) -> list[dict[str, object]]:
    """Register the page's article (its title and paragraphs) and return its cues."""
    title = page.inner_text("main h1")
    text = page.evaluate(
        "() => [...document.querySelectorAll('main p')].map((p) => p.textContent).join('\\n\\n')"
    )
    with httpx.Client(base_url=base, timeout=60) as client:
        answer = client.put(
            f"/v1/articles/{article}", json={"text": text, "title": title}, headers=AUTH
        )
        assert answer.status_code in (200, 201, 202), answer.text
        assert wait_job(client, answer.json()["job"]["id"])["state"] == "done"
        return parse_vtt(client.get(f"/v1/articles/{article}/vtt").text)


def _figures(app, article: str, *, until_stops: bool):
    """The article's figures and stops, once the report the page sent on leaving has been
    counted (a beacon cannot be awaited from a page that is gone: ask the database)."""
    from tts_service.console.listening import day_figures, stops

    db = app.state.registry.store.db
    deadline = time.monotonic() + 30
    while until_stops and not stops(db, article) and time.monotonic() < deadline:
        time.sleep(0.05)
    return day_figures(db, article), stops(db, article)


def test_registered_article_playback_is_counted_exactly(page, portal, served, axe_source):
    base, app = served
    page.goto(portal("registered.html"))
    article = page.get_attribute(READ, "data-tts-article")
    cues = _register(page, base, article)
    assert len(cues) >= 5

    with page.expect_response(_report("play")) as played:
        page.click(READ)
    assert played.value.status == 204
    wait_playing(page)
    wait_cues(page)
    # The player plays the registered article's own audio, not a reading of the page.
    assert page.evaluate(js("return ttsAudio().src;")) == f"{base}/v1/articles/{article}/audio"
    assert axe_violations(page, axe_source, player_only=True) == []

    duration = page.evaluate(js("return ttsAudio().duration;"))
    with page.expect_response(_report("50")) as half:
        seek_audio(page, 0.6 * duration)
    assert half.value.status == 204
    page.evaluate(js("ttsFind('.tts-play').click();"))  # the listener pauses
    wait_paused(page)
    at = state(page)["t"]
    assert 0.55 * duration < at < 0.75 * duration
    stopped = [cue for cue in cues if cue["start"] <= at][-1]

    page.goto("about:blank")  # leaving the page: the stop goes out as a beacon
    days, where = _figures(app, article, until_stops=True)

    assert len(days) == 1
    day = days[0]
    assert (day.plays, day.q25, day.q50, day.q75, day.q100) == (1, 1, 1, 0, 0)
    assert 0 < day.seconds < 600
    assert where == {int(str(stopped["id"])[1:]): 1}


def test_text_read_without_an_article_id_reports_nothing(page, portal, served):
    _, app = served
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if LISTENS in request.url else None)
    page.goto(portal("plain.html"))
    page.click(READ)
    wait_playing(page)
    wait_cues(page)
    # Audio read on the spot streams (its duration unknown): its timings tell its length.
    seek_audio(page, 0.6 * float(cues_of(page)[-1]["end"]))
    wait_playing(page, 0.5 * float(cues_of(page)[-1]["end"]))
    page.evaluate(js("ttsFind('.tts-play').click();"))
    wait_paused(page)
    page.evaluate(js("ttsFind('.tts-close').click();"))
    page.wait_for_function(js("return !ttsRoot();"))
    page.goto("about:blank")
    assert sent == []


def test_closing_the_player_reports_where_the_listener_stopped(page, portal, served):
    base, app = served
    page.goto(portal("registered.html"))
    article = page.get_attribute(READ, "data-tts-article")
    cues = _register(page, base, article)
    with page.expect_response(_report("play")):
        page.click(READ)
    wait_playing(page)
    duration = page.evaluate(js("return ttsAudio().duration;"))
    with page.expect_response(_report("25")):
        seek_audio(page, 0.3 * duration)
    # Closed while playing: the stop goes out at once (fetch with keepalive), here awaited.
    with page.expect_response(_report("stop")) as stop:
        at = page.evaluate(
            js("const t = ttsAudio().currentTime; ttsFind('.tts-close').click(); return t;")
        )
    assert stop.value.status == 204
    stopped = [cue for cue in cues if cue["start"] <= at][-1]
    page.goto("about:blank")  # nothing more to say once the player is closed
    days, where = _figures(app, article, until_stops=False)
    assert [(d.plays, d.q25, d.q50, d.q75, d.q100) for d in days] == [(1, 1, 0, 0, 0)]
    assert where == {int(str(stopped["id"])[1:]): 1}
