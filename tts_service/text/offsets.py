"""Map positions in cleaned text back to the text as written.

Cleaning steps are plain ``str -> str`` functions, so they cannot report where they
moved things. Their edits are small and local (an NBSP becomes a space, "e" + two
combining marks become "ế", a space is added after a comma), so a greedy walk that
re-synchronises after each difference recovers the alignment in linear time. Edits can
be dense ("hoà hoà hoà" → "hòa hòa hòa" differs every fourth character), so the walk
first asks three agreeing characters after a difference, then two, then one; only when
it is still lost does :class:`difflib.SequenceMatcher` align the next few characters.
It never aligns the whole text: that is quadratic, and "hoà " × 400 took a minute.
"""

from __future__ import annotations

from difflib import SequenceMatcher

__all__ = ["OffsetMap"]

# How far (in characters, both strings together) the walk looks for the next match.
_MAX_SKIP = 8
# Characters that must agree after a difference before the walk trusts the new position,
# strictest first.
_ANCHORS = (3, 2, 1)
# Characters of each string that SequenceMatcher aligns when the walk is lost.
_WINDOW = 32


class OffsetMap:
    """Positions of ``cleaned`` mapped to positions of ``original``.

    A span ``cleaned[a:b]`` came from ``original[map.start(a):map.end(b)]``. Where cleaning
    replaced text (NFC composition, a deleted zero-width space) the span widens to the
    whole replaced stretch, never narrower.
    """

    __slots__ = ("_ends", "_starts")

    def __init__(self, original: str, cleaned: str) -> None:
        """Align ``cleaned`` with the ``original`` it was made from."""
        if original == cleaned:
            identity = list(range(len(cleaned) + 1))
            self._starts = identity
            self._ends = identity
            return
        self._starts = [0] * (len(cleaned) + 1)
        self._ends = [0] * (len(cleaned) + 1)
        for tag, i1, i2, j1, j2 in _greedy_blocks(original, cleaned):
            self._fill(tag, i1, i2, j1, j2)

    def start(self, position: int) -> int:
        """The original offset where a span starting at cleaned ``position`` starts."""
        return self._starts[position]

    def end(self, position: int) -> int:
        """The original offset where a span ending at cleaned ``position`` ends."""
        return self._ends[position]

    def _fill(self, tag: str, i1: int, i2: int, j1: int, j2: int) -> None:
        if tag == "equal":
            for k in range(j2 - j1 + 1):
                self._starts[j1 + k] = i1 + k
                self._ends[j1 + k] = i1 + k
        elif tag == "delete":
            # A span starting here skips the deleted text; one ending here stops before it.
            self._starts[j1] = i2
            self._ends[j1] = i1
        else:
            # insert or replace: every inner position covers the whole original stretch.
            self._starts[j1] = i1
            self._ends[j1] = i1
            for j in range(j1 + 1, j2):
                self._starts[j] = i1
                self._ends[j] = i2
            self._starts[j2] = i2
            self._ends[j2] = i2


def _greedy_blocks(a: str, b: str) -> list[tuple[str, int, int, int, int]]:
    """Opcodes like ``SequenceMatcher.get_opcodes()``, by a greedy re-synchronising walk."""
    blocks: list[tuple[str, int, int, int, int]] = []
    i = j = 0
    n, m = len(a), len(b)
    while i < n or j < m:
        start_i, start_j = i, j
        while i < n and j < m and a[i] == b[j]:
            i += 1
            j += 1
        if i > start_i:
            blocks.append(("equal", start_i, i, start_j, j))
        if i == n and j == m:
            break
        skip = _resync(a, b, i, j)
        if skip is None:
            local = _window_blocks(a, b, i, j)
            blocks += local
            i, j = local[-1][2], local[-1][4]
            continue
        di, dj = skip
        tag = "replace" if di and dj else ("delete" if di else "insert")
        blocks.append((tag, i, i + di, j, j + dj))
        i += di
        j += dj
    return blocks


def _resync(a: str, b: str, i: int, j: int) -> tuple[int, int] | None:
    """The smallest skip ``(di, dj)`` after which ``a`` and ``b`` agree again."""
    n, m = len(a), len(b)
    if i < n and a[i].isspace() and (j >= m or not b[j].isspace()):
        # A run of spaces deleted outright: "Vy       Quản" → "Vy Quản" is handled as a
        # shorter run plus this deletion, however long the run is.
        di = 1
        while i + di < n and a[i + di].isspace():
            di += 1
        return di, 0
    for anchor in _ANCHORS:
        for total in range(1, _MAX_SKIP + 1):
            for di in range(total + 1):
                dj = total - di
                if i + di > n or j + dj > m:
                    continue
                ai, bj = i + di, j + dj
                if ai == n and bj == m:
                    return di, dj
                width = min(anchor, n - ai, m - bj)
                if width and a[ai : ai + width] == b[bj : bj + width]:
                    if width == anchor or (ai + width == n and bj + width == m):
                        return di, dj
    return None


def _window_blocks(a: str, b: str, i: int, j: int) -> list[tuple[str, int, int, int, int]]:
    """Opcodes for the next :data:`_WINDOW` characters, up to the last equal stretch.

    What follows the last equal stretch may belong with text beyond the window, so it is
    left to the walk; with no equal stretch at all, the whole window is one replacement.
    """
    wa, wb = a[i : i + _WINDOW], b[j : j + _WINDOW]
    ops = SequenceMatcher(None, wa, wb, autojunk=False).get_opcodes()
    ends_both = i + len(wa) == len(a) and j + len(wb) == len(b)
    equal = [k for k, op in enumerate(ops) if op[0] == "equal"]
    if not ends_both:
        ops = ops[: equal[-1] + 1] if equal else [("replace", 0, len(wa), 0, len(wb))]
    return [(tag, i + i1, i + i2, j + j1, j + j2) for tag, i1, i2, j1, j2 in ops]
