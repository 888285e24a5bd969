"""Complete audio by each means of delivery (tts_service/api/responders.py, AudioResponder).

* the cache directory's file, served by the service (the quick start);
* an S3 object streamed through the service (a bucket without a public URL);
* a 307 to a presigned URL of the bucket (``TTS_AUDIO_REDIRECT``), fetched from SeaweedFS;
* a 307 to ``TTS_AUDIO_PUBLIC_URL``, here a real nginx serving the cache directory;
* ``X-Accel-Redirect`` to an internal location of a real nginx in front of the service.

Every MP3 is decoded whole; ranges are compared byte for byte with the stored object.
"""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
import pytest
from fastapi import HTTPException, Request

from tests.cache_stores import Stores
from tests.helpers import assert_whole_audio, text_tone
from tests.infra.nginx import start_nginx
from tts_service.api.responders import AudioResponder
from tts_service.cache import AudioCache
from tts_service.settings import Settings
from tts_service.storage import FileBlobStore
from tts_service.synthesis import SpeechService
from tts_service.testing import FakeEngine

TEXT = (
    "Ngày 09/7/2021, Sở Nội vụ tỉnh Lạng Sơn tổ chức hội nghị sơ kết thi đua.\n"
    "Hội nghị đã thảo luận đánh giá kết quả đạt được và những hạn chế tồn tại."
)
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture
def build(tmp_path):
    """A service with a fake voice whose audio goes to ``stores``, with ``overrides``."""
    services = []

    def make(stores: Stores, voice=text_tone, **overrides):
        root = tmp_path / "cache"
        settings = Settings(
            cache_dir=root, engine=("espeak",), **stores.settings(root), **overrides
        )
        store = stores.open(root, public_base_url=settings.audio_public_url)
        cache = AudioCache(root, max_bytes=settings.cache_max_bytes, store=store)
        engines = {"fake": FakeEngine(voice, name="fake")}
        service = SpeechService(settings, engines=engines, cache=cache)
        services.append(service)
        return service

    yield make
    for service in services:
        service.close()


def read_article(client, service):
    """Read TEXT to the end; its URLs, the stored article and its audio and timings."""
    answer = client.post("/v1/read", json={"text": TEXT})
    assert answer.status_code in (200, 202), answer.text
    info = answer.json()
    job = service.job(info["id"])
    assert job is None or job.wait(60)
    stored = service.stored(info["id"])
    assert stored is not None
    return info, stored, service.cache.read_mp3(stored), service.cache.read_vtt(stored)


def check_ranges(get, url, mp3: bytes, etag: str) -> None:
    """What RFC 9110 asks of a seekable file, whoever sends the bytes."""
    part = get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206, part.text
    assert part.content == mp3[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(mp3)}"
    tail = get(url, headers={"Range": "bytes=-300"})
    assert (tail.status_code, tail.content) == (206, mp3[-300:])
    assert get(url, headers={"Range": f"bytes={len(mp3)}-"}).status_code == 416
    assert get(url, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize("kind", ["file", "s3"])
def test_complete_audio_through_the_service_from_either_store(kind, request, build, serve):
    stores = (
        Stores("file") if kind == "file" else Stores("s3", request.getfixturevalue("s3_location"))
    )
    service = build(stores)
    client = serve(service)
    info, stored, mp3, vtt = read_article(client, service)
    whole = client.get(info["audio_url"])
    assert whole.status_code == 200
    assert whole.content == mp3
    assert_whole_audio(whole.content, float(stored.meta["duration_s"]))
    assert whole.headers["cache-control"] == IMMUTABLE
    assert whole.headers["etag"] == f'"{info["id"]}"'  # strong: the content's own hash
    assert whole.headers["accept-ranges"] == "bytes"
    head = client.head(info["audio_url"])
    assert (head.status_code, head.content) == (200, b"")
    assert int(head.headers["content-length"]) == len(mp3) == stored.mp3_size
    check_ranges(client.get, info["audio_url"], mp3, f'"{info["id"]}"')
    timings = client.get(info["vtt_url"])
    assert (timings.status_code, timings.text) == (200, vtt)
    assert timings.headers["cache-control"] == IMMUTABLE


def test_an_object_gone_from_the_bucket_is_a_404_not_a_broken_200(s3_location):
    # Evicted by another process (or a lifecycle rule) between the lookup and the answer.
    store = Stores("s3", s3_location).open(Path("gone"))
    responder = AudioResponder(store)
    assert responder.mode == "stream"
    request = Request({"type": "http", "method": "GET", "headers": [], "query_string": b""})
    with pytest.raises(HTTPException) as raised:
        responder.respond(
            request, "articles/ab/ab12.mp3", size=10, media_type="audio/mpeg", etag='"ab12"'
        )
    assert raised.value.status_code == 404


def test_a_private_bucket_redirects_to_a_presigned_url(build, serve, s3_location):
    service = build(Stores("s3", s3_location), audio_redirect=True, audio_url_ttl_s=600)
    client = serve(service)
    info, stored, mp3, vtt = read_article(client, service)
    answer = client.get(info["audio_url"], follow_redirects=False)
    assert answer.status_code == 307
    location = answer.headers["location"]
    assert location.startswith(s3_location.endpoint_url) and "X-Amz-Signature=" in location
    assert "X-Amz-Expires=600" in location
    # A presigned URL expires: the redirect is kept by this browser only, and not as long.
    assert answer.headers["cache-control"] == "private, max-age=300"
    assert answer.headers["etag"] == f'"{info["id"]}"'
    fetched = httpx.get(location, timeout=30)
    assert fetched.status_code == 200 and fetched.content == mp3
    assert_whole_audio(fetched.content, float(stored.meta["duration_s"]))
    ranged = httpx.get(location, headers={"Range": "bytes=100-1099"}, timeout=30)
    assert (ranged.status_code, ranged.content) == (206, mp3[100:1100])
    # The signature is real: the same URL for another key is refused by the store.
    forged = location.replace(stored.mp3_key, stored.vtt_key)
    assert httpx.get(forged, timeout=30).status_code == 403
    # Revalidation costs no redirect; a HEAD is redirected like a GET.
    assert (
        client.get(info["audio_url"], headers={"If-None-Match": answer.headers["etag"]}).status_code
        == 304
    )
    assert client.head(info["audio_url"]).status_code == 307
    timings = client.get(info["vtt_url"], follow_redirects=True)
    assert (timings.status_code, timings.text) == (200, vtt)


def test_a_public_url_redirects_to_nginx_serving_the_cache_directory(build, serve, tmp_path):
    root = tmp_path / "cache"
    files = f"        location /files/ {{ alias {root}/; }}\n"
    with start_nginx(files) as nginx:
        service = build(Stores("file"), audio_public_url=f"{nginx.url}/files")
        client = serve(service)
        info, stored, mp3, _ = read_article(client, service)
        answer = client.get(info["audio_url"], follow_redirects=False)
        assert answer.status_code == 307
        assert answer.headers["location"] == f"{nginx.url}/files/{stored.mp3_key}"
        followed = client.get(info["audio_url"], follow_redirects=True)
        assert followed.status_code == 200 and followed.content == mp3
        assert_whole_audio(followed.content, float(stored.meta["duration_s"]))
        check_ranges(httpx.get, answer.headers["location"], mp3, followed.headers["etag"])


def test_x_accel_redirect_lets_nginx_send_the_bytes(build, serve, tmp_path):
    root = tmp_path / "cache"
    service = build(Stores("file"), audio_accel_redirect="/_audio/")
    app = serve(service)
    locations = (
        # etag off: the service's strong ETag (the content's hash) is the one listeners get.
        f"        location /_audio/ {{ internal; alias {root}/;\n"
        "            etag off; add_header ETag $upstream_http_etag; }\n"
        f"        location / {{ proxy_pass {app.base_url}; proxy_buffering off; }}\n"
    )
    with start_nginx(locations) as nginx:
        info, stored, mp3, vtt = read_article(app, service)
        # The service itself answers with the header and no body...
        direct = app.get(info["audio_url"])
        assert direct.headers["x-accel-redirect"] == f"/_audio/{stored.mp3_key}"
        assert direct.content == b""
        # ...and nginx in front sends the file, with the service's headers.
        front = httpx.Client(base_url=nginx.url, timeout=30)
        path = httpx.URL(info["audio_url"]).path
        whole = front.get(path)
        assert whole.status_code == 200, whole.text
        assert whole.content == mp3
        assert_whole_audio(whole.content, float(stored.meta["duration_s"]))
        assert "x-accel-redirect" not in whole.headers
        assert whole.headers["content-type"] == "audio/mpeg"
        assert whole.headers["cache-control"] == IMMUTABLE
        assert whole.headers["etag"] == f'"{info["id"]}"'
        head = front.head(path)
        assert int(head.headers["content-length"]) == len(mp3)
        check_ranges(front.get, path, mp3, f'"{info["id"]}"')
        timings = front.get(httpx.URL(info["vtt_url"]).path)
        assert (timings.status_code, timings.text) == (200, vtt)
        # The internal location cannot be asked for from outside.
        assert front.get(f"/_audio/{stored.mp3_key}").status_code == 404
        front.close()


def test_an_article_still_being_made_is_streamed_by_the_service_behind_nginx(
    build, serve, tmp_path
):
    # X-Accel-Redirect is for complete files: the stream of an article in progress keeps
    # going through Python, and nginx passes it on as it comes (proxy_buffering off).
    root = tmp_path / "cache"
    gate = threading.Event()

    def gated(text: str) -> bytes:
        gate.wait(60)
        return text_tone(text)

    service = build(Stores("file"), voice=gated, audio_accel_redirect="/_audio/")
    app = serve(service)
    locations = (
        f"        location /_audio/ {{ internal; alias {root}/; }}\n"
        f"        location / {{ proxy_pass {app.base_url}; proxy_buffering off; }}\n"
    )
    try:
        with start_nginx(locations) as nginx, httpx.Client(base_url=nginx.url, timeout=60) as front:
            info = front.post("/v1/read", json={"text": TEXT}).json()
            job = service.job(info["id"])
            assert job is not None
            heard: list[httpx.Response] = []
            listener = threading.Thread(
                target=lambda: heard.append(front.get(httpx.URL(info["audio_url"]).path))
            )
            listener.start()
            # The listener is following the job before any audio exists.
            stop = threading.Event()
            for _ in range(6000):
                if job.listening >= 1:
                    break
                stop.wait(0.01)  # polls the service's own state: it offers nothing to wait on
            assert job.listening >= 1
            gate.set()
            listener.join(60)
            (streamed,) = heard
            stored = service.stored(info["id"])
            assert stored is not None
            assert streamed.status_code == 200
            assert streamed.headers["cache-control"] == "no-store"
            assert streamed.content == service.cache.read_mp3(stored)
            assert_whole_audio(streamed.content, float(stored.meta["duration_s"]))
            # Once complete, the same URL is nginx's file.
            after = front.get(httpx.URL(info["audio_url"]).path)
            assert after.headers["cache-control"] == IMMUTABLE
            assert after.content == streamed.content
    finally:
        gate.set()


def test_the_service_keeps_its_audio_where_tts_storage_url_says(tmp_path, s3_location, monkeypatch):
    from tts_service.api.main import build_service
    from tts_service.storage.s3 import S3BlobStore

    stores = Stores("s3", s3_location)
    root = tmp_path / "cache"
    for name, value in stores.env().items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    settings = Settings(cache_dir=root, engine=("espeak",), **stores.settings(root))
    service = build_service(settings)
    try:
        assert isinstance(service.cache.store, S3BlobStore)
        service.cache.put_chunk("c" * 40, b"frames")
    finally:
        service.close()
    assert stores.keys(root) == [f"chunks/cc/{'c' * 40}.mp3"]
    assert not (root / "chunks").exists()  # nothing in the directory but the index


def test_an_accel_location_must_be_a_path_with_both_slashes():
    for bad in ("_audio/", "/_audio", "http://nginx/_audio/"):
        with pytest.raises(ValueError, match="TTS_AUDIO_ACCEL_REDIRECT"):
            Settings(audio_accel_redirect=bad)
    assert Settings(audio_accel_redirect="/_audio/").audio_accel_redirect == "/_audio/"


def test_a_redirect_asked_of_a_file_store_without_a_public_url_serves_the_file(tmp_path):
    # TTS_AUDIO_REDIRECT with the default store: a file:// URL is no use to a browser.
    assert AudioResponder(FileBlobStore(tmp_path), redirect=True).mode == "file"
    public = FileBlobStore(tmp_path, public_base_url="https://portal.example/audio")
    assert AudioResponder(public, redirect=True).mode == "redirect"


def test_the_redirect_of_a_mutable_id_is_not_kept(tmp_path):
    # /v1/articles/<id>/audio changes when the article is edited: its redirect must be
    # revalidated, where an immutable /v1/audio/<hash>.mp3 redirect may be kept a while.
    store = FileBlobStore(tmp_path, public_base_url="https://portal.example/audio")
    responder = AudioResponder(store, redirect=True, url_ttl_s=600)
    request = Request({"type": "http", "method": "GET", "headers": [], "query_string": b""})

    def cache_control(given: str) -> str:
        answer = responder.respond(
            request,
            "articles/ab/ab12.mp3",
            size=10,
            media_type="audio/mpeg",
            etag='"ab12"',
            headers={"Cache-Control": given},
        )
        assert answer.headers["location"] == "https://portal.example/audio/articles/ab/ab12.mp3"
        return answer.headers["cache-control"]

    assert cache_control("no-cache") == "no-cache"
    assert cache_control(IMMUTABLE) == "private, max-age=300"


def test_a_registered_articles_audio_streams_from_the_bucket(build, serve, s3_location):
    from tests.registry.cms import ARTICLE, KEYS, put, wait_job

    service = build(Stores("s3", s3_location), api_keys=KEYS)
    client = serve(service)
    wait_job(client, put(client, "bai-1", text=ARTICLE).json()["job"]["id"])
    audio = client.get("/v1/articles/bai-1/audio")
    assert audio.status_code == 200, audio.text
    assert audio.headers["cache-control"] == "no-cache"  # the id's audio changes on edit
    stored = service.cache.get_article(audio.headers["etag"].strip('"'))
    assert stored is not None and audio.content == service.cache.read_mp3(stored)
    assert_whole_audio(audio.content, float(stored.meta["duration_s"]))
    part = client.get("/v1/articles/bai-1/audio", headers={"Range": "bytes=10-99"})
    assert (part.status_code, part.content) == (206, audio.content[10:100])
    timings = client.get("/v1/articles/bai-1/vtt")
    assert (timings.status_code, timings.text) == (200, service.cache.read_vtt(stored))
    transcript = client.get("/v1/articles/bai-1/transcript")
    assert transcript.status_code == 200  # its times come from the stored timings
    assert all(line["start"] is not None for line in transcript.json()["sentences"])
