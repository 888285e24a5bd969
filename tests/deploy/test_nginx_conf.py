"""deploy/nginx.conf, run by a real nginx in front of a real service and SeaweedFS.

No Docker engine runs here, so deploy/docker-compose.yml itself cannot be started; what it
puts together can. The shipped nginx.conf is rendered for loopback by replacing only the
compose network's host names (``api:8000``, ``seaweedfs:8333`` with the bucket prefix) and
the listen port, and SeaweedFS is given deploy/seaweedfs-s3.json's identities, with its
anonymous reader of the bucket. The service reads its storage and X-Accel settings from
``TTS_*`` variables as the compose file sets them.

Then, through nginx: an article still being made streams through Python; once complete,
its MP3 comes from the bucket by X-Accel-Redirect, decoded whole, byte for byte the
service's own, with the service's Content-Type, Cache-Control, ETag and CORS headers;
ranges, If-Range (an edited article), HEAD and revalidation work; an object gone from the
bucket is a 404 nobody keeps; the internal location cannot be asked for from outside.
The compose file is checked structurally, and its bucket job run against a real weed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import assert_whole_audio, text_tone
from tests.infra.common import free_ports, unavailable
from tests.infra.nginx import NginxServer, start_nginx
from tests.infra.seaweed import S3Location, SeaweedServer
from tests.registry.cms import ARTICLE, KEYS, put, wait_job
from tts_service.cache import AudioCache
from tts_service.settings import Settings
from tts_service.storage import store_from_settings
from tts_service.synthesis import SpeechService
from tts_service.testing import FakeEngine

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TEXT = (
    "Ngày 09/7/2021, Sở Nội vụ tỉnh Lạng Sơn tổ chức hội nghị sơ kết thi đua.\n"
    "Hội nghị đã thảo luận đánh giá kết quả đạt được và những hạn chế tồn tại."
)
IMMUTABLE = "public, max-age=31536000, immutable"
PORTAL = "https://portal.example"


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def tts_environment() -> dict[str, str]:
    """The environment the compose file gives the API and worker containers."""
    services = compose()["services"]
    environment = services["api"]["environment"]
    assert services["worker"]["environment"] == environment
    return {str(name): str(value) for name, value in environment.items()}


def bucket_of(storage_url: str) -> tuple[str, str]:
    """``s3://tts-audio/portal`` → ``("tts-audio", "portal")``."""
    assert storage_url.startswith("s3://")
    bucket, _, prefix = storage_url.removeprefix("s3://").partition("/")
    return bucket, prefix


def render(*, api: str, store: S3Location, port: int) -> str:
    """deploy/nginx.conf with the compose network's addresses replaced by loopback ones.

    Each replaced text must occur exactly once, so a change to the shipped file that this
    rendering would miss fails here instead of testing something else.
    """
    shipped_bucket, shipped_prefix = bucket_of(tts_environment()["TTS_STORAGE_URL"])
    endpoint = tts_environment()["TTS_S3_ENDPOINT_URL"]  # http://seaweedfs:8333
    text = (DEPLOY / "nginx.conf").read_text()
    replacements = {
        "server api:8000;": f"server {api};",
        f"proxy_pass {endpoint}/{shipped_bucket}/{shipped_prefix}/;": (
            f"proxy_pass {store.endpoint_url}/{store.bucket}/{store.prefix}/;"
        ),
        "listen 80;": f"listen 127.0.0.1:{port};",
    }
    for old, new in replacements.items():
        assert text.count(old) == 1, f"deploy/nginx.conf no longer has {old!r} once"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def deploy_seaweed() -> Iterator[SeaweedServer]:
    """SeaweedFS with deploy/seaweedfs-s3.json's identities, and the compose file's bucket.

    The session's SeaweedFS (tests/infra/seaweed.py) knows the test identity only, and
    refuses anonymous reads; nginx reads the bucket anonymously, as in the compose file.
    """
    try:
        import boto3  # noqa: F401
    except ImportError:
        unavailable("the boto3 package is missing: pip install -e '.[dev]'")
    identities = json.loads((DEPLOY / "seaweedfs-s3.json").read_text())["identities"]
    bucket, _ = bucket_of(tts_environment()["TTS_STORAGE_URL"])
    server = SeaweedServer.start(identities=identities, bucket=bucket)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """Held shut, the fake voice makes no audio: the article stays in progress."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def build(tmp_path, deploy_seaweed, gate, monkeypatch) -> Iterator[Callable[..., SpeechService]]:
    """A service configured by the compose file's TTS_* storage and delivery variables.

    Only the addresses differ: the bucket is reached on loopback, under a prefix of this
    test's own, with the test identity's keys. ``overrides`` are other settings.
    """
    location = deploy_seaweed.location()
    shipped = tts_environment()
    monkeypatch.setenv("TTS_STORAGE_URL", f"s3://{location.bucket}/{location.prefix}")
    monkeypatch.setenv("TTS_S3_ENDPOINT_URL", location.endpoint_url)
    monkeypatch.setenv("TTS_AUDIO_ACCEL_REDIRECT", shipped["TTS_AUDIO_ACCEL_REDIRECT"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", location.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", location.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", location.region)
    built: list[SpeechService] = []

    def gated(text: str) -> bytes:
        gate.wait(60)
        return text_tone(text)

    def make(**overrides: Any) -> SpeechService:
        settings = Settings(cache_dir=tmp_path / "cache", engine=("espeak",), **overrides)
        assert settings.audio_accel_redirect == "/_audio/"
        store = store_from_settings(settings)
        cache = AudioCache(settings.cache_dir, max_bytes=settings.cache_max_bytes, store=store)
        engines = {"fake": FakeEngine(gated, name="fake")}
        built.append(SpeechService(settings, engines=engines, cache=cache))
        return built[-1]

    yield make
    for service in built:
        service.close()


@contextmanager
def shipped_nginx(
    app: httpx.Client, service: SpeechService, seaweed: SeaweedServer, *, elsewhere: bool = False
) -> Iterator[tuple[NginxServer, httpx.Client]]:
    """The shipped nginx.conf in front of ``app``, reading ``service``'s bucket prefix.

    ``elsewhere``: nginx reads another prefix, where none of the service's objects are
    (as if each had gone between the API's answer and nginx's fetch).
    """
    assert service.settings.storage_url is not None
    bucket, prefix = bucket_of(service.settings.storage_url)
    if elsewhere:
        prefix += "-elsewhere"
    location = S3Location(seaweed.endpoint_url, bucket, prefix)
    api = httpx.URL(str(app.base_url))
    (port,) = free_ports(1)
    config = render(api=f"{api.host}:{api.port}", store=location, port=port)
    # The helper's own (empty) server only tells when nginx is up; the shipped one is ours.
    with (
        start_nginx("", http_block=config) as nginx,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as front,
    ):
        yield nginx, front


def test_the_shipped_nginx_conf_streams_then_sends_complete_audio_from_the_bucket(
    build, serve, gate, deploy_seaweed
):
    service = build(cors_origins=(PORTAL,))
    app = serve(service)
    with shipped_nginx(app, service, deploy_seaweed) as (nginx, front):
        # A new article: its stream goes through Python while it is being made.
        answer = front.post("/v1/read", json={"text": TEXT})
        assert answer.status_code in (200, 202), answer.text
        info = answer.json()
        # Its URLs name the address the listener used, port included (nginx's Host).
        named = httpx.URL(info["audio_url"])
        assert (named.host, named.port) == (front.base_url.host, front.base_url.port)
        path = httpx.URL(info["audio_url"]).path
        job = service.job(info["id"])
        assert job is not None
        heard: list[httpx.Response] = []
        listener = threading.Thread(target=lambda: heard.append(front.get(path)))
        listener.start()
        stop = threading.Event()
        for _ in range(6000):
            if job.listening >= 1:
                break
            stop.wait(0.01)  # polls the service's own state: it offers nothing to wait on
        assert job.listening >= 1, nginx.log()
        gate.set()
        listener.join(60)
        (streamed,) = heard
        assert job.wait(60)
        stored = service.stored(info["id"])
        assert stored is not None
        mp3 = service.cache.read_mp3(stored)
        assert streamed.status_code == 200, streamed.text
        assert streamed.headers["cache-control"] == "no-store"
        assert "x-accel-redirect" not in streamed.headers
        assert streamed.content == mp3

        # The service itself answers the complete article with the header and no body...
        direct = app.get(path, headers={"Origin": PORTAL})
        assert direct.headers["x-accel-redirect"] == f"/_audio/{stored.mp3_key}"
        assert direct.content == b""

        # ...and nginx fetches the object from the bucket, keeping the service's headers.
        etag = f'"{info["id"]}"'
        whole = front.get(path, headers={"Origin": PORTAL})
        assert whole.status_code == 200, whole.text + nginx.log()
        assert whole.content == mp3
        assert_whole_audio(whole.content, float(stored.meta["duration_s"]))
        assert "x-accel-redirect" not in whole.headers
        assert whole.headers.get_list("content-type") == ["audio/mpeg"]
        assert whole.headers.get_list("cache-control") == [IMMUTABLE]
        assert whole.headers.get_list("etag") == [etag]
        assert whole.headers.get_list("accept-ranges") == ["bytes"]
        assert int(whole.headers["content-length"]) == len(mp3) == stored.mp3_size
        assert whole.headers.get_list("x-tts-engine") == ["fake"]
        # CORS is the service's (TTS_CORS_ORIGINS), not the store's (any origin, its own
        # exposed headers); nothing of the store's bookkeeping goes out.
        for name in ("access-control-allow-origin", "access-control-expose-headers", "vary"):
            assert whole.headers.get_list(name) == direct.headers.get_list(name), name
        assert "access-control-allow-methods" not in whole.headers
        assert [n for n in whole.headers if n.startswith(("x-amz-", "seaweed-"))] == []

        head = front.head(path)
        assert (head.status_code, head.content) == (200, b"")
        assert int(head.headers["content-length"]) == len(mp3)
        assert head.headers.get_list("content-type") == ["audio/mpeg"]
        assert head.headers.get_list("etag") == [etag]

        part = front.get(path, headers={"Range": "bytes=100-1099"})
        assert part.status_code == 206, part.text
        assert part.content == mp3[100:1100]
        assert part.headers["content-range"] == f"bytes 100-1099/{len(mp3)}"
        assert part.headers.get_list("content-type") == ["audio/mpeg"]
        assert part.headers.get_list("cache-control") == [IMMUTABLE]
        tail = front.get(path, headers={"Range": "bytes=-300"})
        assert (tail.status_code, tail.content) == (206, mp3[-300:])
        assert front.get(path, headers={"Range": f"bytes={len(mp3)}-"}).status_code == 416
        # A browser resuming with the ETag it was given gets the rest, not the whole file.
        resumed = front.get(path, headers={"Range": "bytes=1000-", "If-Range": etag})
        assert (resumed.status_code, resumed.content) == (206, mp3[1000:])
        # With an ETag of other content, the Range is ignored: the whole current file.
        stale = front.get(path, headers={"Range": "bytes=1000-", "If-Range": '"other"'})
        assert (stale.status_code, stale.content) == (200, mp3)
        assert front.get(path, headers={"If-None-Match": etag}).status_code == 304

        timings = front.get(httpx.URL(info["vtt_url"]).path)
        assert timings.status_code == 200
        vtt_type = app.get(httpx.URL(info["vtt_url"]).path).headers["content-type"]
        assert timings.headers.get_list("content-type") == [vtt_type]
        assert timings.text == service.cache.read_vtt(stored)
        assert timings.headers.get_list("cache-control") == [IMMUTABLE]

        # The internal location cannot be asked for from outside.
        assert front.get(f"/_audio/{stored.mp3_key}").status_code == 404
        assert nginx.process.poll() is None


def test_audio_gone_from_the_bucket_is_a_404_not_kept(build, serve, gate, deploy_seaweed):
    # Evicted by another process between the API's answer and nginx's fetch: the store's
    # 404 (XML naming the bucket) must not reach the listener as audio kept for a year.
    gate.set()
    service = build()
    app = serve(service)
    with shipped_nginx(app, service, deploy_seaweed, elsewhere=True) as (nginx, front):
        info = front.post("/v1/read", json={"text": TEXT}).json()
        job = service.job(info["id"])
        assert job is None or job.wait(60)
        path = httpx.URL(info["audio_url"]).path
        assert app.get(path).headers["x-accel-redirect"]  # the API believes it is there
        for gone in (front.get(path), front.head(path)):
            assert gone.status_code == 404
            assert "no-store" in ", ".join(gone.headers.get_list("cache-control"))
            assert gone.headers["content-type"] == "application/json"
        body = front.get(path).json()["detail"]
        assert "Không tìm thấy" in body and "no audio" in body  # Vietnamese, then English
        assert service.settings.storage_url is not None
        assert bucket_of(service.settings.storage_url)[0] not in body


def test_an_edited_article_is_sent_whole_to_a_browser_resuming_its_old_audio(
    build, serve, gate, deploy_seaweed
):
    # /v1/articles/<id>/audio changes when the editor changes the text. A browser that had
    # half of the old MP3 asks for the rest with If-Range: the old ETag. The bucket only
    # has keys and MD5s; nginx must send the whole new file, not the new file's tail.
    gate.set()
    service = build(api_keys=KEYS)
    app = serve(service)
    path = "/v1/articles/bai-1/audio"
    with shipped_nginx(app, service, deploy_seaweed) as (nginx, front):
        wait_job(front, put(front, "bai-1", text=ARTICLE).json()["job"]["id"])
        first = front.get(path)
        assert first.status_code == 200, first.text + nginx.log()
        assert first.headers.get_list("cache-control") == ["no-cache"]
        old = first.headers["etag"]
        stored = service.cache.get_article(old.strip('"'))
        assert stored is not None and first.content == service.cache.read_mp3(stored)
        assert_whole_audio(first.content, float(stored.meta["duration_s"]))
        resumed = front.get(path, headers={"Range": "bytes=500-", "If-Range": old})
        assert (resumed.status_code, resumed.content) == (206, first.content[500:])

        edited = ARTICLE + "\n\nPhiên họp bế mạc lúc 11 giờ 30 cùng ngày."
        wait_job(front, put(front, "bai-1", text=edited).json()["job"]["id"])
        after = front.get(path, headers={"Range": "bytes=500-", "If-Range": old})
        assert after.status_code == 200, after.text
        assert after.headers["etag"] != old
        new = service.cache.get_article(after.headers["etag"].strip('"'))
        assert new is not None and after.content == service.cache.read_mp3(new)
        assert_whole_audio(after.content, float(new.meta["duration_s"]))


def test_the_bucket_is_readable_but_not_writable_anonymously(deploy_seaweed):
    # deploy/seaweedfs-s3.json lets nginx read objects without keys; nobody without keys
    # may write them or list the bucket.
    location = deploy_seaweed.location()
    key = f"{location.prefix}/articles/ab/ab12.mp3"
    deploy_seaweed.client().put_object(Bucket=location.bucket, Key=key, Body=b"frames")
    base = f"{location.endpoint_url}/{location.bucket}"
    assert httpx.get(f"{base}/{key}").content == b"frames"
    assert httpx.put(f"{base}/{key}", content=b"forged").status_code == 403
    assert httpx.get(f"{base}/{key}").content == b"frames"
    assert httpx.get(f"{base}/?list-type=2").status_code == 403


def test_the_compose_bucket_job_makes_the_bucket_once(deploy_seaweed):
    # The "bucket" service's script, run by a shell against a real weed master (the
    # compose network's name replaced by its loopback address): it makes the bucket the
    # service writes to, and run again (every "docker compose up") it changes nothing.
    job = compose()["services"]["bucket"]
    assert job["entrypoint"] == ["/bin/sh", "-c"]
    (script,) = job["command"]
    assert script.count("seaweedfs:9333") == 3
    script = script.replace("seaweedfs:9333", f"127.0.0.1:{deploy_seaweed.master_port}")
    bucket, _ = bucket_of(tts_environment()["TTS_STORAGE_URL"])
    client = deploy_seaweed.client()
    client.delete_object(Bucket=bucket, Key="ready-probe")
    client.delete_bucket(Bucket=bucket)
    assert bucket not in [b["Name"] for b in client.list_buckets()["Buckets"]]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    for _ in range(2):
        done = subprocess.run(["/bin/sh", "-c", script], env=env, timeout=120, check=False)
        assert done.returncode == 0
        names = [b["Name"] for b in client.list_buckets()["Buckets"]]
        assert names.count(bucket) == 1
    client.put_object(Bucket=bucket, Key="ready-probe", Body=b"ok")


def test_the_compose_file_has_the_cluster_and_only_real_settings(monkeypatch):
    services = compose()["services"]
    assert {"postgres", "seaweedfs", "bucket", "api", "worker", "nginx"} <= set(services)
    for name in ("api", "worker"):
        assert services[name]["deploy"]["replicas"] == 2
        assert services[name]["build"]["dockerfile"] == "Dockerfile"
    assert services["api"]["command"] == ["tts-service", "serve"]
    assert services["worker"]["command"] == ["tts-service", "worker"]
    assert (DEPLOY / services["api"]["build"]["context"] / "Dockerfile").exists()
    # The files it mounts are the ones beside it.
    mounted = [
        volume.split(":")[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if volume.startswith("./")
    ]
    assert sorted(mounted) == ["./nginx.conf", "./seaweedfs-s3.json"]
    for name in mounted:
        assert (DEPLOY / name).exists()
    # Every TTS_* variable is a setting the service reads.
    fields = set(Settings.model_fields)
    prefix = Settings.model_config.get("env_prefix", "")
    environment = tts_environment()
    named = [name for name in environment if name.startswith(prefix)]
    assert named, "the compose file sets no TTS_* variable"
    unknown = [name for name in named if name.removeprefix(prefix).lower() not in fields]
    assert unknown == []
    # ...and with the defaults the compose file falls back to, the settings are valid.
    for name, value in environment.items():
        monkeypatch.setenv(name, re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value))
    settings = Settings()
    assert settings.storage_url == environment["TTS_STORAGE_URL"]
    assert settings.audio_accel_redirect == environment["TTS_AUDIO_ACCEL_REDIRECT"]
    assert settings.forwarded_allow_ips == ("*",)
    # The bucket the service writes to is the one nginx reads and SeaweedFS lets it read.
    bucket, prefix_in_bucket = bucket_of(environment["TTS_STORAGE_URL"])
    conf = (DEPLOY / "nginx.conf").read_text()
    endpoint = environment["TTS_S3_ENDPOINT_URL"]
    assert f"proxy_pass {endpoint}/{bucket}/{prefix_in_bucket}/;" in conf
    assert f"location {environment['TTS_AUDIO_ACCEL_REDIRECT']} {{" in conf
    identities = json.loads((DEPLOY / "seaweedfs-s3.json").read_text())["identities"]
    anonymous = next(i for i in identities if i["name"] == "anonymous")
    assert anonymous["actions"] == [f"Read:{bucket}"]
    # The nginx container serves on the port the header comment curls.
    assert services["nginx"]["ports"] == ["8080:80"]
