"""Absolute cost of hostile inputs: each class at the size the service accepts.

Every case of ``tests/hostile/inputs.py`` (repeated extractor phrases, dateline openers,
runs of every special character, context words, long lists of numbers, numerals, dates,
capitals, nested HTML, long tokens) is built at about ``TTS_MAX_TEXT_CHARS`` characters
(100,000 by default) and run through everything a request pays for before synthesis:
extraction for plain text and HTML, then normalisation and chunking. Each must stay well
under a second of CPU; the slowest cases are printed with CPU and wall-clock seconds.

``--engines`` also measures the two second lines of defence considered for regular
expressions: the ``regex`` module's per-call ``timeout=`` and Google's RE2 bindings
(``google-re2``, if importable): how many of the normaliser's patterns each accepts, and
what matching costs on ordinary article text compared with :mod:`re`.

    .venv/bin/python bench/bench_hostile.py [--chars 100000] [--classes shapes,datelines]
        [--top 25] [--engines]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.hostile.inputs import CLASSES, Hostile  # noqa: E402
from tests.hostile.work import read_request, size_for  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "hostile.json"
SEED = ROOT.parent / "shared" / "fixtures" / "seed-article.txt"
if not SEED.exists():
    SEED = ROOT / "tests" / "fixtures" / "seed-article.txt"
# What "well under a second" means here.
TARGET_S = 1.0


def _fit(case: Hostile, chars: int) -> str:
    """The case's input with at most ``chars`` characters (and at least half of that)."""
    n = size_for(case.build, chars // 2)
    text = case.build(n)
    while len(text) > chars and n > 1:
        n = n * 3 // 4
        text = case.build(n)
    return text


def measure(cases: list[Hostile], chars: int) -> list[dict[str, object]]:
    """CPU and wall-clock seconds of a request's text work for each case."""
    read_request("text", "Ngày 09/7/2021, UBND tỉnh họp lần thứ XVI.")  # load models
    read_request("html", "<p>Bài viết.</p>")
    rows: list[dict[str, object]] = []
    for case in cases:
        text = _fit(case, chars)
        cpu, wall = time.process_time(), time.perf_counter()
        read_request(case.stage, text)
        rows.append(
            {
                "case": str(case),
                "chars": len(text),
                "cpu_s": round(time.process_time() - cpu, 4),
                "wall_s": round(time.perf_counter() - wall, 4),
            }
        )
    return rows


def engines() -> dict[str, object]:
    """Compare :mod:`re`, ``regex`` (with ``timeout=``) and RE2 on the normaliser's patterns."""
    import re

    from tts_service.text.pipeline import Normalizer

    normalizer = Normalizer()
    patterns = [rule.pattern for rule in normalizer.rules]
    text = normalizer.clean(SEED.read_text(encoding="utf-8")) * 10
    report: dict[str, object] = {"patterns": len(patterns), "text_chars": len(text)}

    def scan(compiled: list[object], **kwargs: object) -> float:
        start = time.perf_counter()
        for pattern in compiled:
            for _ in pattern.finditer(text, **kwargs):  # type: ignore[attr-defined]
                pass
        return time.perf_counter() - start

    report["re_s"] = round(min(scan(patterns) for _ in range(3)), 4)
    try:
        import regex
    except ImportError:
        report["regex"] = "not installed"
    else:
        compiled = []
        for p in patterns:
            try:
                compiled.append(regex.compile(p.pattern, p.flags & ~re.UNICODE | regex.V0))
            except regex.error:
                pass
        report["regex_compiles"] = len(compiled)
        report["regex_s"] = round(min(scan(compiled) for _ in range(3)), 4)
        report["regex_timeout_s"] = round(min(scan(compiled, timeout=1.0) for _ in range(3)), 4)
        # The dateline pattern as it was (nested repetition), with a 0.1 s timeout.
        old = regex.compile(
            r"^(?:(?:cập\s+nhật(?:\s+lúc)?|ngày\s+cập\s+nhật|ngày|lúc)[\s,:|-]*)*\d",
            regex.IGNORECASE,
        )
        start = time.perf_counter()
        try:
            found = old.match("cập nhật lúc " * 40 + "x", timeout=0.1)
            report["regex_old_dateline"] = (
                f"{'matched' if found else 'no match'} in {time.perf_counter() - start:.4f} s"
            )
        except TimeoutError:
            report["regex_old_dateline"] = f"TimeoutError after {time.perf_counter() - start:.3f} s"
    try:
        import re2
    except ImportError:
        report["re2"] = "not installed"
    else:
        accepted = []
        for p in patterns:
            try:
                accepted.append(re2.compile(p.pattern))
            except Exception:  # re2.error, or an unsupported construct
                pass
        report["re2_compiles"] = len(accepted)
        report["re2_rejected"] = len(patterns) - len(accepted)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=100_000)
    parser.add_argument("--classes", default=",".join(CLASSES))
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--engines", action="store_true")
    args = parser.parse_args()
    cases = [case for name in args.classes.split(",") for case in CLASSES[name]()]
    rows = measure(cases, args.chars)
    rows.sort(key=lambda row: -float(row["cpu_s"]))  # type: ignore[arg-type]
    print(f"{len(rows)} cases at ≤ {args.chars} characters; slowest first (CPU s, wall s):")  # noqa: T201
    for row in rows[: args.top]:
        print(f"  {row['cpu_s']:>7.3f} {row['wall_s']:>7.3f}  {row['chars']:>7}  {row['case']}")  # noqa: T201
    over = [row for row in rows if float(row["cpu_s"]) >= TARGET_S]  # type: ignore[arg-type]
    print(f"cases at or over {TARGET_S} s of CPU: {len(over)}")  # noqa: T201
    result: dict[str, object] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "chars": args.chars,
        "cases": len(rows),
        "over_target": len(over),
        "slowest": rows[: args.top],
    }
    if args.engines:
        result["engines"] = engines()
        print(json.dumps(result["engines"], indent=2, ensure_ascii=False))  # noqa: T201
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
