"""A listener whose article waits its turn hears where it stands, never a failure.

The service answers a new article with its ``queue_position`` (1 = next) and the same for
``GET /v1/read/{id}``; the player shows and announces it, asks again every few seconds, and
does not give up after its first-audio timeout while the article is still queued. The
answers are rewritten in the browser (the server side has its own tests) and the audio
never arrives (a socket that accepts and never answers), with the page's clock faked.
"""

from __future__ import annotations

import socket

from tests.browser.support import READ, js, state, wait_live


def test_a_queued_listener_is_told_its_place_and_never_a_false_failure(page, portal):
    with socket.socket() as stall:
        stall.bind(("127.0.0.1", 0))
        stall.listen(8)
        port = stall.getsockname()[1]
        positions = iter([2, 1])
        polls: list[str] = []

        def queued(route):
            answer = route.fetch()
            body = answer.json()
            body.update(queue_position=3, audio_url=f"http://127.0.0.1:{port}/never.mp3")
            route.fulfill(response=answer, json=body)

        def poll(route):
            polls.append(route.request.url)
            answer = route.fetch()
            body = answer.json()
            body["queue_position"] = next(positions, 1)
            route.fulfill(response=answer, json=body)

        page.clock.install()
        page.route("**/v1/read", queued)
        page.route("**/v1/read/*", poll)
        page.goto(portal("plain.html"))
        page.click(READ)
        page.wait_for_function(
            js("const r = ttsRoot(); return r && r.dataset.ttsState === 'loading';")
        )
        wait_live(page, "Bài đang chờ đến lượt đọc: thứ 3 trong hàng đợi")

        # Each poll is answered over the network, so the clock moves one poll at a time.
        page.clock.run_for(5_500)
        wait_live(page, "Bài đang chờ đến lượt đọc: thứ 2 trong hàng đợi")
        page.clock.run_for(5_500)
        wait_live(page, "Bài đang chờ đến lượt đọc: thứ 1 trong hàng đợi")
        assert len(polls) == 2

        # Past the player's one-minute wait for first audio: still queued, so still waiting.
        page.clock.run_for(60_000)
        now = state(page)
        assert (now["state"], now["status"], now["live"]) == (
            "loading",
            "Bài đang chờ đến lượt đọc: thứ 1 trong hàng đợi",
            "Bài đang chờ đến lượt đọc: thứ 1 trong hàng đợi",
        ), now
        # A poll still in flight must not outlive the page's routes.
        page.unroute_all(behavior="ignoreErrors")
