"""Request and response bodies of the HTTP API."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tts_service.jobs import JobState

__all__ = ["ErrorResponse", "ReadRequest", "ReadResponse"]

_SURROGATES = re.compile("[\ud800-\udfff]")


class ReadRequest(BaseModel):
    """An article to read: plain text or HTML, with an optional title for the MP3 tag."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, description="The article as plain text.")
    html: str | None = Field(default=None, description="The article as HTML (tags are dropped).")
    title: str | None = Field(default=None, max_length=500, description="Title for the MP3 tag.")
    engine: str | None = Field(default=None, description="Engine to try first, e.g. `espeak`.")
    voice: str | None = Field(default=None, description="Voice of that engine, e.g. `vi`.")

    @field_validator("text", "html", "title")
    @classmethod
    def _drop_lone_surrogates(cls, value: str | None) -> str | None:
        """JSON may carry ``\\ud800`` escapes that are not characters; they cannot be read."""
        return _SURROGATES.sub("", value) if value is not None else None

    @model_validator(mode="after")
    def _one_source(self) -> ReadRequest:
        if (self.text is None) == (self.html is None):
            raise ValueError(
                "Gửi đúng một trong hai trường 'text' hoặc 'html' (send either 'text' or 'html')."
            )
        return self


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


class ErrorResponse(BaseModel):
    """An error a person can read."""

    detail: str
