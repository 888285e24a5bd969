"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tts_service.jobs import JobState

__all__ = [
    "ARTICLE_ID_PATTERN",
    "ArticleOut",
    "ArticlePage",
    "ArticlePut",
    "ChunkCounts",
    "JobOut",
    "LexiconBody",
    "LexiconOut",
    "RegisteredArticle",
    "Transcript",
    "TranscriptSentence",
    "ErrorResponse",
    "NormalizeRequest",
    "NormalizeResponse",
    "ReadRequest",
    "ReadResponse",
    "RewriteOut",
    "SentenceOut",
    "SourceText",
    "UnknownOut",
]

_SURROGATES = re.compile("[\ud800-\udfff]")
_ONE_SOURCE = (
    "Gửi đúng một trong các trường 'text', 'html' hoặc 'url' "
    "(send exactly one of 'text', 'html' or 'url')."
)


_SOURCES = ("text", "html", "url")


def _one_source_schema(schema: dict[str, Any], model: type[Any]) -> None:
    """Document "exactly one of text, html, url" so clients and fuzzers send valid bodies.

    Validation stays in ``_one_source``; this only states it in the OpenAPI schema. The
    model's Vietnamese ``example`` goes with it, so Swagger UI's "Try it out" sends a body
    that works on a fresh install.
    """
    schema["examples"] = [model.example]
    schema["oneOf"] = [
        {
            "required": [source],
            "properties": {
                other: {"type": "string"} if other == source else {"type": "null"}
                for other in _SOURCES
            },
        }
        for source in _SOURCES
    ]


class SourceText(BaseModel):
    """An article as plain text, as HTML, or as the URL of its page: exactly one of them."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_source_schema)
    example: ClassVar[dict[str, Any]] = {
        "text": "UBND tỉnh Lạng Sơn họp ngày 09/7/2021 về kế hoạch năm 2022."
    }

    text: str | None = Field(
        default=None, description="The article as plain text (portal chrome is dropped)."
    )
    html: str | None = Field(default=None, description="The page's HTML; its article is extracted.")
    url: str | None = Field(
        default=None,
        max_length=2048,
        description="The page's URL, on a host of TTS_FETCH_ALLOWED_HOSTS; fetched by the service.",
    )
    selector: str | None = Field(
        default=None,
        max_length=500,
        description="CSS selector of the article element in the HTML or page, e.g. `#noi-dung`.",
    )

    @field_validator("text", "html")
    @classmethod
    def _drop_lone_surrogates(cls, value: str | None) -> str | None:
        """JSON may carry ``\\ud800`` escapes that are not characters; they cannot be read."""
        return _SURROGATES.sub("", value) if value is not None else None

    @model_validator(mode="after")
    def _one_source(self) -> SourceText:
        if sum(getattr(self, source) is not None for source in _SOURCES) != 1:
            raise ValueError(_ONE_SOURCE)
        return self


class ReadRequest(SourceText):
    """An article to read, with an optional title for the MP3 tag."""

    example: ClassVar[dict[str, Any]] = {
        "text": "Sáng 15/3, HĐND tỉnh khai mạc kỳ họp thứ VII, bàn 12 nội dung quan trọng.",
        "title": "Khai mạc kỳ họp HĐND tỉnh",
    }

    title: str | None = Field(default=None, max_length=500, description="Title for the MP3 tag.")
    engine: str | None = Field(default=None, description="Engine to try first, e.g. `espeak`.")
    voice: str | None = Field(default=None, description="Voice of that engine, e.g. `vi`.")

    @field_validator("title")
    @classmethod
    def _clean_title(cls, value: str | None) -> str | None:
        return _SURROGATES.sub("", value) if value is not None else None


class ReadResponse(BaseModel):
    """Where the audio and its timings are, and whether they are complete."""

    id: str = Field(description="Article id: a content hash of what is read and how.")
    status: JobState
    audio_url: str
    vtt_url: str
    duration_s: float | None = Field(description="Length of the audio; null until complete.")
    engine: str = Field(description="Engine that produced (or is producing) the audio.")
    chars: int = Field(description="Characters of spoken text sent to the engine.")
    title: str | None = None
    queue_position: int | None = Field(
        default=None,
        description="While the article waits for its first chunk: its place among the "
        "articles waiting to start (1: next). Queued is not failed: its audio_url answers "
        "with the stream as soon as it starts. Null once audio flows.",
    )


class ErrorResponse(BaseModel):
    """An error a person can read."""

    detail: str


class NormalizeRequest(SourceText):
    """Text to preview: what the service will say for it."""


class RewriteOut(BaseModel):
    """One replacement: the written span, what is said instead, and the rule that chose it."""

    start: int
    end: int
    source: str
    spoken: str
    rule: str


class SentenceOut(BaseModel):
    """A sentence as written (with its span in the input) and as it will be spoken."""

    index: int
    paragraph: int
    text: str
    start: int
    end: int
    spoken: str
    rewrites: list[RewriteOut]


class ArticleOut(BaseModel):
    """What was extracted from the input, in reading order."""

    title: str | None
    lead: str | None
    paragraphs: list[str]
    byline: str | None


class UnknownOut(BaseModel):
    """A token the normaliser could only spell out or leave as written: a lexicon candidate."""

    start: int
    end: int
    token: str
    spoken: str | None = Field(description="How it is said; null when left as written.")


class NormalizeResponse(BaseModel):
    """The editor's "what will be read" preview."""

    article: ArticleOut
    spoken_text: str
    sentences: list[SentenceOut]
    unknown: list[UnknownOut] = Field(
        default_factory=list,
        description="Tokens spelled letter by letter or left as written, in reading order.",
    )


# -- the editors' API -------------------------------------------------------------------

#: A portal's article id, as a path segment: ``2024-07-tin-123``. No slash, no leading dot.
ARTICLE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$"


class ArticlePut(SourceText):
    """A portal article to register or update: its title and its text, HTML or URL."""

    example: ClassVar[dict[str, Any]] = {
        "title": "Tỉnh đón nhận Huân chương Lao động hạng Nhất",
        "text": "Ngày 2/9/2024, UBND tỉnh tổ chức lễ đón nhận Huân chương Lao động hạng Nhất.",
        "revision": "v1",
    }

    title: str | None = Field(default=None, max_length=500, description="The article's title.")
    revision: str | None = Field(
        default=None,
        max_length=200,
        description="The CMS's revision label, echoed back and in webhooks; not itself a change.",
    )
    priority: Literal["publish", "batch"] = Field(
        default="publish",
        description=(
            "publish (the default) for what is published now; batch for an archive being "
            "imported, which waits behind every published article and lexicon change."
        ),
    )

    @field_validator("title")
    @classmethod
    def _clean_title(cls, value: str | None) -> str | None:
        return _SURROGATES.sub("", value) if value is not None else None


class ChunkCounts(BaseModel):
    """Chunks of the article's audio: how many were reused from the cache, how many made."""

    total: int
    reused: int
    synthesised: int


class JobOut(BaseModel):
    """A persistent synthesis job of a registered article."""

    id: int
    article_id: str
    reason: str = Field(description="put, regenerate, lexicon, batch or upgrade.")
    priority: str = Field(
        description=(
            "publish, lexicon, batch or upgrade: queued jobs are claimed in this order. A job "
            "keeps the most urgent priority it was queued with (an archive article edited "
            "before it was read is reason batch, priority publish)."
        )
    )
    state: str = Field(description="queued, running, done, failed or cancelled.")
    attempts: int = Field(
        description=(
            "Tries started (each claim of the job by a worker), the running one and any "
            "whose process died included; see TTS_JOB_ATTEMPTS."
        )
    )
    error: str | None = None
    chunks: ChunkCounts | None = None
    created: float
    started: float | None = None
    finished: float | None = None


class RegisteredArticle(BaseModel):
    """A registered article: its status and where its audio, timings and transcript are."""

    id: str
    title: str | None
    revision: str | None
    source_kind: str = Field(description="text, html or url.")
    status: str = Field(description="queued, synthesising, ready or failed.")
    stale: bool = Field(description="True when the audio served predates the current content.")
    audio_url: str
    vtt_url: str
    transcript_url: str
    has_audio: bool
    duration_s: float | None
    engine: str | None
    error: str | None
    chunks: ChunkCounts | None
    job: JobOut | None = None
    created: float
    updated: float
    ready_at: float | None


class ArticlePage(BaseModel):
    """One page of registered articles."""

    items: list[RegisteredArticle]
    page: int
    pages: int
    total: int


class TranscriptSentence(BaseModel):
    """A sentence as it is read: when, as written, and the exact words spoken."""

    index: int
    paragraph: int
    start: float | None
    end: float | None
    text: str
    spoken: str


class Transcript(BaseModel):
    """The exact text read aloud, sentence by sentence, with timings."""

    id: str
    title: str | None
    stale: bool
    sentences: list[TranscriptSentence]


class LexiconBody(BaseModel):
    """The site lexicon: written form → reading, e.g. ``"VNPT": "vê en pê tê"``."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"entries": {"VNPT": "vê en pê tê", "TTHC": "thủ tục hành chính"}}]
        },
    )

    entries: dict[str, str] = Field(max_length=20_000)


class LexiconOut(LexiconBody):
    """The site lexicon, its version, and the articles a change re-queued."""

    etag: str
    requeued: list[str] = Field(default_factory=list)
