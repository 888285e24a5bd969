"""The normaliser and chunker together on arbitrary text: nothing raises, is lost or repeats.

Hypothesis draws any unicode (no lone surrogates: ``schemas.SourceText`` removes those
before the service sees them), emoji, control characters and 5,000-character "words".
"""

from __future__ import annotations

from itertools import groupby

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tts_service.text.chunker import chunk_document
from tts_service.text.pipeline import normalize

LIMIT = 100

any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=200)
emoji = st.text(st.sampled_from("😀👍🏽🇻🇳👨‍👩‍👧❤️‍🔥🙏"), min_size=1, max_size=20)
controls = st.text(st.characters(categories=("Cc", "Cf", "Zl", "Zp")), min_size=1, max_size=10)
vietnamese = st.sampled_from(
    ("UBND tỉnh", "ngày 09/7/2021", "12.500.000đ", "lúc 10:30", "Nghị định 15/2021/NĐ-CP")
)
long_word = st.builds(
    lambda char, size: char * size,
    st.characters(exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc")),
    st.integers(LIMIT - 5, 5000),
)
separators = st.sampled_from((" ", "\n", "\n\n", ". ", ", ", "\t", "\u00a0"))
pieces = st.one_of(any_text, emoji, controls, vietnamese, long_word)
documents = st.lists(st.tuples(pieces, separators), max_size=12).map(
    lambda parts: "".join(piece + sep for piece, sep in parts)
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_chunks_fit_and_keep_every_spoken_word_once(text: str) -> None:
    document = normalize(text)
    chunks = chunk_document(document, LIMIT)
    assert all(0 < len(chunk.text) <= LIMIT for chunk in chunks), text
    assert [c.index for c in chunks] == list(range(len(chunks)))
    by_sentence = {
        index: [c.text for c in group] for index, group in groupby(chunks, lambda c: c.sentence)
    }
    assert list(by_sentence) == sorted(by_sentence), "a sentence's chunks are not together"
    for sentence in document.sentences:
        said = " ".join(by_sentence.get(sentence.index, [])).split()
        words = sentence.spoken.split()
        if all(len(word) <= LIMIT for word in words):
            assert said == words, text
        else:
            # Only a word longer than a request is cut, so only its characters are compared.
            assert "".join(said) == "".join(words), text
