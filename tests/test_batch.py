"""``tts-service pregenerate``: inputs, the run, resuming, failures, and a kill -9 mid-batch."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import typing
from pathlib import Path, PurePosixPath

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import assert_whole_audio, text_tone
from tests.registry.cms import CountingEngine
from tts_service.batch import (
    ARTICLE_ID,
    Invalid,
    Source,
    fit_id,
    gather,
    path_id,
    run_batch,
    url_id,
)
from tts_service.cache import AudioCache
from tts_service.cli import main
from tts_service.errors import SynthesisRejected
from tts_service.registry.articles import PRIORITY_BATCH
from tts_service.registry.runtime import RegistryRuntime
from tts_service.registry.store import ArticleStore
from tts_service.testing import FakeEngine, FakeGoogle

ROOT = Path(__file__).resolve().parents[1]

FOLDER = {
    "2024/tin-12.html": (
        "<html><head><title>Họp thường kỳ</title></head><body><article>"
        "<h1>UBND tỉnh họp thường kỳ</h1><p>UBND tỉnh Lạng Sơn họp phiên thường kỳ tháng 7.</p>"
        "<p>Các sở báo cáo tiến độ quý III năm 2024.</p></article></body></html>"
    ),
    "2024/tin-13.txt": "Hội nghị thống nhất kế hoạch năm 2025. Chủ tịch yêu cầu hoàn thành sớm.\n",
    "Thời sự/tin nóng.txt": "Giá xăng giảm 500 đồng từ ngày 09/7. Người dân phấn khởi.\n",
    "notes.md": "not an article",
    ".git/x.txt": "hidden: not an article",
}
FOLDER_IDS = {"2024-tin-12", "2024-tin-13", "Thoi-su-tin-nong"}


def write_folder(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def registry(service) -> ArticleStore:
    return ArticleStore.open(service.settings.registry_file)


# -- ids -----------------------------------------------------------------------------------


def test_ids_come_from_paths_and_urls():
    assert path_id(PurePosixPath("2024/tin-12.html")) == "2024-tin-12"
    assert path_id(PurePosixPath("Thời sự/Đà Nẵng  mới.txt")) == "Thoi-su-Da-Nang-moi"
    assert path_id(PurePosixPath("_nháp/.tin.htm")) == "nhap-.tin"
    assert url_id("https://www.baochinhphu.vn/2024/tin-12.htm") == "baochinhphu.vn-2024-tin-12"
    assert url_id("https://vnexpress.net/tin/?id=5#binh-luan") == "vnexpress.net-tin-id-5"


def test_long_ids_are_cut_with_a_hash_that_keeps_them_apart():
    long = "chuyen-muc/" * 20 + "tin"
    cut = fit_id(long)
    assert len(cut) <= 128 and ARTICLE_ID.fullmatch(cut) and cut.startswith("chuyen-muc-")
    assert fit_id(long) == cut  # deterministic: a rerun finds the same article
    assert fit_id(long + "-2") != cut and fit_id(long + "-2")[:100] == cut[:100]
    assert ARTICLE_ID.fullmatch(fit_id("/// ???"))


@given(st.text())
def test_any_name_gives_a_valid_id(raw):
    assert ARTICLE_ID.fullmatch(fit_id(raw)), raw


def test_the_id_pattern_is_the_apis():
    from tts_service.api.routes.articles import ArticleId

    (path,) = typing.get_args(ArticleId)[1:]
    assert [m.pattern for m in path.metadata] == [ARTICLE_ID.pattern]


# -- reading the inputs ------------------------------------------------------------------------


def test_folder_jsonl_and_url_list_are_read(tmp_path):
    folder = write_folder(tmp_path / "kho", FOLDER)
    jsonl = tmp_path / "bai.jsonl"
    jsonl.write_text(
        "\n".join(
            [
                json.dumps(
                    {"id": "j-1", "title": "Tiêu đề", "revision": "r7", "text": "Xin chào."}
                ),
                json.dumps({"id": "j-2", "html": "<p>Chào.</p>", "selector": "p"}),
                "",
                "{not json",
                json.dumps({"id": "j-3", "text": "a", "html": "<p>b</p>"}),
                json.dumps({"id": "-j4", "text": "a"}),
                json.dumps({"id": "j-5", "text": "a", "tittle": "typo"}),
                json.dumps(["j-6"]),
                json.dumps({"id": "j-7", "url": "https://baochinhphu.vn/a.htm"}),
            ]
        ),
        encoding="utf-8",
    )
    urls = tmp_path / "urls.txt"
    urls.write_text(
        "# trang cần đọc\n"
        "https://www.baochinhphu.vn/2024/tin-12.htm\n"
        "\n"
        "tin-99\thttps://vnexpress.net/tin-99.html\n"
        "ftp://example.com/x\n"
        "bad id\thttps://vnexpress.net/x\n",
        encoding="utf-8",
    )

    entries = list(gather([folder, jsonl], [urls]))

    sources = {e.id: e for e in entries if isinstance(e, Source)}
    invalid = {e.origin: e.message for e in entries if isinstance(e, Invalid)}
    assert set(sources) == FOLDER_IDS | {
        "j-1",
        "j-2",
        "j-7",
        "baochinhphu.vn-2024-tin-12",
        "tin-99",
    }
    assert sources["2024-tin-12"].html is not None and sources["2024-tin-12"].text is None
    assert sources["2024-tin-13"].text is not None and sources["2024-tin-13"].title is None
    assert sources["j-1"].title == "Tiêu đề" and sources["j-1"].revision == "r7"
    assert sources["j-2"].selector == "p"
    assert sources["tin-99"].url == "https://vnexpress.net/tin-99.html"
    assert set(invalid) == {
        f"{jsonl}:4",
        f"{jsonl}:5",
        f"{jsonl}:6",
        f"{jsonl}:7",
        f"{jsonl}:8",
        f"{urls}:5",
        f"{urls}:6",
    }
    assert "not JSON" in invalid[f"{jsonl}:4"]
    assert "exactly one of 'text', 'html' or 'url'" in invalid[f"{jsonl}:5"]
    assert "'-j4' is not a valid article id" in invalid[f"{jsonl}:6"]
    assert invalid[f"{jsonl}:7"].startswith("tittle:")
    assert "not an http(s) URL" in invalid[f"{urls}:5"]


# -- running -----------------------------------------------------------------------------------


def test_mixed_inputs_are_read_and_url_sources_fail_cleanly_when_fetching_is_off(
    make_service, tmp_path
):
    engine = CountingEngine()
    service = make_service(engine)
    folder = write_folder(tmp_path / "kho", FOLDER)
    jsonl = tmp_path / "bai.jsonl"
    jsonl.write_text(
        json.dumps({"id": "j-1", "title": "Chào", "text": "Xin chào bạn đọc."})
        + "\n{oops\n"
        + json.dumps({"id": "j-2", "text": "   "})
        + "\n",
        encoding="utf-8",
    )
    urls = tmp_path / "urls.txt"
    urls.write_text("https://baochinhphu.vn/tin-1.htm\n", encoding="utf-8")

    report = run_batch(service, gather([folder, jsonl], [urls]), workers=2)

    assert report.exit_code == 1
    assert (report.registered, report.synthesised, report.skipped) == (4, 4, 0)
    failures = {f.id: f.message for f in report.failures}
    assert set(failures) == {f"{jsonl}:2", "j-2", "baochinhphu.vn-tin-1"}
    assert "trống" in failures["j-2"]
    assert "TTS_FETCH_ALLOWED_HOSTS" in failures["baochinhphu.vn-tin-1"]
    assert report.chunks_synthesised == len(set(engine.calls)) > 0
    summary = report.summary()
    assert re.search(r"^registered: +4$", summary, re.M)
    assert re.search(r"^failed: +3$", summary, re.M)
    assert f"  {jsonl}:2: not JSON" in summary
    assert "  baochinhphu.vn-tin-1: Dịch vụ chưa cho phép đọc theo địa chỉ" in summary

    store = registry(service)
    try:
        for article_id in FOLDER_IDS | {"j-1"}:
            record = store.get(article_id)
            assert record is not None and record.status == "ready", article_id
        assert store.get("baochinhphu.vn-tin-1") is None  # refused before anything was stored
        assert store.get("j-1").title == "Chào"
    finally:
        store.close()


def test_a_rerun_skips_what_is_ready_without_calling_the_engine(make_service, tmp_path):
    engine = CountingEngine()
    service = make_service(engine)
    folder = write_folder(tmp_path / "kho", FOLDER)
    first = run_batch(service, gather([folder]), workers=2)
    assert first.exit_code == 0 and first.synthesised == 3
    calls = len(engine.calls)

    again = run_batch(service, gather([folder]), workers=2)

    assert again.exit_code == 0
    assert (again.registered, again.skipped, again.synthesised) == (0, 3, 0)
    assert len(engine.calls) == calls
    assert re.search(r"^skipped \(already ready\): +3$", again.summary(), re.M)


def test_duplicate_ids_are_refused_not_overwritten(make_service, tmp_path):
    service = make_service(CountingEngine())
    folder = write_folder(
        tmp_path / "kho", {"tin.txt": "Bản văn bản. Câu hai.", "tin.html": "<p>Bản HTML.</p>"}
    )
    report = run_batch(service, gather([folder]), workers=1)
    assert report.exit_code == 1 and report.synthesised == 1
    (failure,) = report.failures
    assert failure.id == "tin" and "same id" in failure.message
    store = registry(service)
    try:
        assert store.get("tin").source_kind == "html"  # the first in path order
    finally:
        store.close()

    twice = run_batch(service, gather([folder, folder]), workers=1)
    assert twice.skipped == 1 and twice.exit_code == 1
    assert ["listed twice" in f.message for f in twice.failures] == [False, True, False]


def test_an_article_the_engine_rejects_fails_and_is_listed(make_service, tmp_path):
    def speak(text: str) -> bytes:
        if "hỏng" in text:
            raise SynthesisRejected("giọng đọc từ chối đoạn này")
        return text_tone(text)

    service = make_service(FakeEngine(speak), job_attempts=1)
    folder = write_folder(
        tmp_path / "kho",
        {
            "a.txt": "Bài một đọc tốt. Câu hai.",
            "b.txt": "Bài hai có đoạn hỏng. Câu hai.",
            "c.txt": "Bài ba đọc tốt.",
        },
    )

    report = run_batch(service, gather([folder]), workers=2)

    assert report.exit_code == 1
    assert report.synthesised == 2
    (failure,) = report.failures
    assert failure.id == "b" and "giọng đọc từ chối" in failure.message
    assert f"  b: {failure.message}" in report.summary()
    store = registry(service)
    try:
        assert store.get("b").status == "failed"
        assert store.get("a").status == store.get("c").status == "ready"
    finally:
        store.close()

    # A failed article is tried again by the next run; the ready ones are skipped.
    again = run_batch(service, gather([folder]), workers=2)
    assert (again.registered, again.skipped, len(again.failures)) == (1, 2, 1)


def test_jobs_a_killed_run_left_queued_are_waited_for(make_service, tmp_path):
    engine = CountingEngine()
    service = make_service(engine)
    folder = write_folder(tmp_path / "kho", FOLDER)
    # A run that registered everything and died before any worker ran: jobs stay queued.
    runtime = RegistryRuntime(service, workers=1)
    try:
        for entry in gather([folder]):
            assert isinstance(entry, Source)
            runtime.registry.put(
                entry.id, title=None, text=entry.text, html=entry.html, priority=PRIORITY_BATCH
            )
    finally:
        runtime.close()
    assert engine.calls == []

    report = run_batch(service, gather([folder]), workers=2)

    assert report.exit_code == 0
    assert (report.registered, report.resumed, report.synthesised) == (0, 3, 3)
    assert re.search(r"^resumed \(already queued\): +3$", report.summary(), re.M)


def test_jobs_run_by_another_process_are_noticed_in_the_database(make_service, tmp_path):
    """The service may claim the batch's jobs: the batch sees them end in their rows."""
    engine = CountingEngine()
    service = make_service(engine)
    folder = write_folder(tmp_path / "kho", FOLDER)
    other = RegistryRuntime(service, workers=2)  # stands for the running service

    def entries():
        yield from gather([folder])
        other.start()  # once all is queued: its workers find the jobs at once

    try:
        report = run_batch(service, entries(), workers=0, poll_s=0.05)
    finally:
        other.close()
    assert report.exit_code == 0 and report.synthesised == 3
    assert report.chunks_synthesised == len(engine.calls) > 0


# -- the command -------------------------------------------------------------------------------


def test_pregenerate_without_inputs_is_a_usage_error(tmp_path):
    result = CliRunner().invoke(main, ["pregenerate"])
    assert result.exit_code == 2
    listing = tmp_path / "urls.txt"
    listing.write_text("https://example.com/a\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["pregenerate", str(listing)])
    assert result.exit_code == 2 and "expected a folder or a .jsonl file" in result.output


def test_pregenerate_lists_url_sources_as_failed_when_fetching_is_off(tmp_path, monkeypatch):
    monkeypatch.setenv("TTS_ENGINE", "espeak")
    monkeypatch.setenv("TTS_CACHE_DIR", str(tmp_path / "cache"))
    jsonl = tmp_path / "bai.jsonl"
    jsonl.write_text(json.dumps({"id": "j-1", "text": "Xin chào."}) + "\n", encoding="utf-8")
    urls = tmp_path / "urls.txt"
    urls.write_text("# hai trang\nhttps://a.vn/x.html\nb-2\thttps://a.vn/y\n", encoding="utf-8")

    result = CliRunner().invoke(main, ["pregenerate", str(jsonl), "--urls", str(urls)])

    assert result.exit_code == 1, result.output
    assert "failures:\n  a.vn-x: Dịch vụ chưa cho phép" in result.output
    assert "\n  b-2: Dịch vụ chưa cho phép" in result.output
    assert re.search(r"^synthesised: +1$", result.output, re.M)


def cli_env(cache: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTS_")}
    env["TTS_CACHE_DIR"] = str(cache)
    env.update({f"TTS_{k.upper()}": v for k, v in settings.items()})
    return env


def pregenerate(*args: str) -> list[str]:
    return [sys.executable, "-m", "tts_service", "pregenerate", *args]


def assert_ready_and_decodable(cache: Path, ids: set[str]) -> None:
    store = ArticleStore.open(cache / "registry.sqlite3")
    audio = AudioCache(cache, max_bytes=1 << 30)
    try:
        for article_id in ids:
            record = store.get(article_id)
            assert record is not None and record.status == "ready", (article_id, record)
            stored = audio.get_article(record.audio_key)
            assert stored is not None, article_id
            assert_whole_audio(audio.read_mp3(stored), record.duration_s)
    finally:
        store.close()
        audio.close()


def test_the_command_reads_a_folder_with_the_offline_voice(tmp_path):
    folder = write_folder(tmp_path / "kho", FOLDER)
    cache = tmp_path / "cache"

    done = subprocess.run(
        pregenerate(str(folder)),
        env=cli_env(cache, engine="espeak"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    assert re.search(r"^registered: +3$", done.stderr, re.M), done.stderr
    assert re.search(r"^synthesised: +3$", done.stderr, re.M)
    assert re.search(r"^failed: +0$", done.stderr, re.M)
    assert re.search(r"^chunks: +\d+ reused, [1-9]\d* synthesised$", done.stderr, re.M)
    assert re.search(r"^elapsed: +[\d.]+ s, [\d.]+ articles/min$", done.stderr, re.M)
    assert "failures:" not in done.stderr
    assert_ready_and_decodable(cache, FOLDER_IDS)


def test_ctrl_c_stops_cleanly_and_the_next_run_finishes(tmp_path):
    folder = write_folder(
        tmp_path / "kho",
        {
            f"tin-{n}.txt": f"Bản tin số {n} hôm nay có nhiều điều mới. Hết tin {n}.\n"
            for n in range(4)
        },
    )
    cache = tmp_path / "cache"
    # Two seconds an answer: eight requests take several times longer than Ctrl-C needs
    # to arrive, so the run is surely mid-article (with quick answers it could finish all
    # four first, and rightly exit 0), and the request in flight still ends soon.
    with FakeGoogle(latency=2.0) as fake:
        env = cli_env(
            cache, engine="gtts", gtts_base_url=fake.base_url, gtts_requests_per_minute="0"
        )
        run = subprocess.Popen(
            pregenerate(str(folder), "--workers", "1"),
            env=env,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        try:
            assert fake.wait_for_requests(1, timeout=120), "no article was started"
            run.send_signal(signal.SIGINT)
            _, stderr = run.communicate(timeout=60)
        finally:
            run.kill()
            run.wait()
            if run.stderr is not None:
                run.stderr.close()  # also when communicate() gave up
        assert run.returncode == 130, stderr
        assert "Interrupted:" in stderr and "run the same command again" in stderr
        assert "Traceback" not in stderr

        again = subprocess.run(
            pregenerate(str(folder)),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp_path,
        )
    assert again.returncode == 0, again.stderr
    assert_ready_and_decodable(cache, {f"tin-{n}" for n in range(4)})


# -- kill -9 in the middle ---------------------------------------------------------------------

CITIES = ("Hà Nội", "Huế", "Đà Nẵng", "Cần Thơ", "Hải Phòng", "Nha Trang")


def city_article(city: str) -> str:
    """Three sentences, each its own chunk (Google takes 100 characters), all naming ``city``."""
    return (
        f"Sáng nay thành phố {city} khai mạc hội chợ xuân với nhiều gian hàng đặc sản. "
        f"Người dân {city} đổ về trung tâm từ sớm để mua sắm và vui chơi cùng gia đình. "
        f"Ban tổ chức cho biết hội chợ ở {city} kéo dài đến hết tuần sau.\n"
    )


def city_of(text: str) -> str:
    (city,) = [c for c in CITIES if c in text]
    return city


def test_a_killed_batch_resumes_without_synthesising_anything_twice(tmp_path):
    folder = write_folder(
        tmp_path / "kho", {f"{n}-{fit_id(c)}.txt": city_article(c) for n, c in enumerate(CITIES)}
    )
    ids = {f"{n}-{fit_id(c)}" for n, c in enumerate(CITIES)}
    cache = tmp_path / "cache"
    with FakeGoogle(latency=0.4) as fake:
        # A long lease: if the dead run's job had to wait for it, the second run would hang.
        env = cli_env(
            cache,
            engine="gtts",
            gtts_base_url=fake.base_url,
            gtts_requests_per_minute="0",
            job_lease_s="600",
        )
        with (tmp_path / "run1.log").open("w") as log:
            # One worker: articles are read one after another, in path order.
            first = subprocess.Popen(
                pregenerate(str(folder), "--workers", "1"), env=env, stderr=log, cwd=tmp_path
            )
            try:
                # Wait (on the fake's arrivals, no sleeping) for the 4th article's first chunk:
                # the first three are then done, and the 4th is in flight.
                deadline = time.monotonic() + 120
                while not any(CITIES[3] in text for text in fake.requests):
                    assert first.poll() is None, (tmp_path / "run1.log").read_text()
                    remaining = deadline - time.monotonic()
                    assert remaining > 0, "the 4th article was never started"
                    fake.wait_for_requests(len(fake.requests) + 1, timeout=min(remaining, 5))
                answered = {r.text for r in fake.received if r.answered_at is not None}
            finally:
                first.kill()
                first.wait(timeout=30)
        run1 = fake.received
        in_flight = {r.text for r in run1} - answered
        assert first.returncode == -9
        assert in_flight and {city_of(t) for t in in_flight} == {CITIES[3]}
        assert {city_of(t) for t in answered} == set(CITIES[:3])

        store = ArticleStore.open(cache / "registry.sqlite3")
        try:
            ready = {i for i in ids if store.get(i).status == "ready"}
            killed_job = store.latest_job(f"3-{fit_id(CITIES[3])}")
        finally:
            store.close()
        assert ready == {f"{n}-{fit_id(c)}" for n, c in enumerate(CITIES[:3])}
        assert killed_job is not None and killed_job.state == "running"

        fake.reset()
        second = subprocess.run(
            pregenerate(str(folder), "--workers", "1"),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp_path,
        )
        run2 = fake.received

    assert second.returncode == 0, second.stderr
    assert re.search(r"^skipped \(already ready\): +3$", second.stderr, re.M), second.stderr
    assert re.search(r"^synthesised: +3$", second.stderr, re.M)
    assert_ready_and_decodable(cache, ids)

    store = ArticleStore.open(cache / "registry.sqlite3")
    try:
        resumed = store.job(killed_job.id)
    finally:
        store.close()
    # The same job was taken over (its 600 s lease notwithstanding) and finished; both tries
    # count, the killed one too (a job that kills its process must not loop forever).
    assert resumed is not None and resumed.state == "done" and resumed.attempts == 2

    # Nothing is read twice but what Google had not answered when the first run died; the
    # three finished articles cost no request at all the second time.
    requested_twice = {r.text for r in run1} & {r.text for r in run2}
    assert requested_twice <= in_flight
    assert {city_of(r.text) for r in run2} == set(CITIES[3:])
    assert len({r.text for r in run2}) == len(run2)
