"""The offline Vietnamese voice: eSpeak NG through ctypes, encoded into the house format.

The library and its data come from the ``espeakng-loader`` wheel, so nothing has to be
installed on the host. libespeak-ng keeps its state in globals and is not thread-safe: it is
initialised once per process, and one process-wide lock covers every call into it. Only the
synthesis itself is serialised; LAME encoding runs outside the lock (``lameenc`` releases the
GIL), so concurrent callers overlap on a multi-core machine.

Blank text is not sent to the library at all; it becomes :data:`BLANK_SILENCE_SECONDS` of
silence, so a chunk of nothing costs nothing but still yields playable frames. Text that
eSpeak renders as (near) silence, e.g. ``"..."``, comes back as the few frames it made.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from collections.abc import Mapping

import espeakng_loader

from tts_service.audio.encode import encode_pcm, silence
from tts_service.audio.format import HOUSE_FORMAT, AudioFormat
from tts_service.errors import (
    AudioFormatError,
    SynthesisRejected,
    SynthesisUnavailable,
    UnknownEngineError,
)

__all__ = ["BLANK_SILENCE_SECONDS", "EspeakEngine"]

logger = logging.getLogger(__name__)

BLANK_SILENCE_SECONDS = 0.072
"""What blank text returns: three frames, as long as eSpeak's own output for ``""``."""

# From espeak-ng's speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # report a missing data dir instead of calling exit()
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_PARAM_RATE = 1
_PARAM_PITCH = 3
_EE_OK = 0
_EE_NOT_FOUND = 2
# Callback buffer, in ms of audio: longer buffers mean fewer Python callbacks per chunk.
_BUFFER_MS = 200

# int SynthCallback(short *wav, int numsamples, espeak_EVENT *events)
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p)

_LOCK = threading.Lock()
_library: _Library | None = None


class _Library:
    """The process's one initialised libespeak-ng; use only while holding ``_LOCK``."""

    def __init__(self) -> None:
        try:
            lib = ctypes.CDLL(espeakng_loader.get_library_path())
            data_path = espeakng_loader.get_data_path()
            lib.espeak_Initialize.argtypes = [
                ctypes.c_int,
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_int,
            ]
            lib.espeak_Initialize.restype = ctypes.c_int
            lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
            lib.espeak_Info.restype = ctypes.c_char_p
            lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
            lib.espeak_SetSynthCallback.restype = None
            lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
            lib.espeak_SetVoiceByName.restype = ctypes.c_int
            lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
            lib.espeak_SetParameter.restype = ctypes.c_int
            lib.espeak_Synth.argtypes = [
                ctypes.c_void_p,  # text
                ctypes.c_size_t,  # size
                ctypes.c_uint,  # position
                ctypes.c_int,  # position_type
                ctypes.c_uint,  # end_position
                ctypes.c_uint,  # flags
                ctypes.c_void_p,  # unique_identifier
                ctypes.c_void_p,  # user_data
            ]
            lib.espeak_Synth.restype = ctypes.c_int
        except (OSError, AttributeError, RuntimeError) as exc:
            raise SynthesisUnavailable(f"cannot load libespeak-ng: {exc}") from exc
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data_path.encode(), _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise SynthesisUnavailable(
                f"espeak_Initialize failed (returned {rate}) with data at {data_path}"
            )
        self.sample_rate: int = rate
        self.version: str = (lib.espeak_Info(None) or b"unknown").decode("ascii", "replace")
        self._lib = lib
        self._chunks: list[bytes] = []
        # libespeak-ng keeps only a raw pointer to this thunk: the reference held here is
        # what stops it being collected (and the next synthesis crashing).
        self._callback = _SYNTH_CALLBACK(self._collect)
        lib.espeak_SetSynthCallback(self._callback)
        self._settings: tuple[str, int, int] | None = None
        logger.info("eSpeak NG %s ready at %d Hz", self.version, rate)

    def _collect(self, wav: int | None, numsamples: int, _events: int | None) -> int:
        """Synthesis callback: keep a copy of each block of samples; 0 means carry on."""
        if wav and numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, 2 * numsamples))
        return 0

    def _configure(self, voice: str, rate: int, pitch: int) -> None:
        """Select voice, rate and pitch, skipping the calls when they are already set."""
        if self._settings == (voice, rate, pitch):
            return
        self._settings = None
        result = self._lib.espeak_SetVoiceByName(voice.encode("utf-8"))
        if result == _EE_NOT_FOUND:
            raise UnknownEngineError(f"eSpeak NG has no voice {voice!r}")
        if result != _EE_OK:
            raise SynthesisUnavailable(f"espeak_SetVoiceByName({voice!r}) returned {result}")
        # Set after the voice, which may load its own defaults for both.
        for parameter, value in ((_PARAM_RATE, rate), (_PARAM_PITCH, pitch)):
            result = self._lib.espeak_SetParameter(parameter, value, 0)
            if result != _EE_OK:
                raise SynthesisUnavailable(
                    f"espeak_SetParameter({parameter}, {value}) returned {result}"
                )
        self._settings = (voice, rate, pitch)

    def synthesize(self, text: bytes, *, voice: str, rate: int, pitch: int) -> bytes:
        """Return 16-bit mono PCM at ``sample_rate`` for UTF-8 ``text`` (NUL-free)."""
        self._configure(voice, rate, pitch)
        self._chunks = []
        try:
            # ``size`` counts the terminating NUL, which Python bytes always carry.
            result = self._lib.espeak_Synth(
                text, len(text) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            if result != _EE_OK:
                raise SynthesisUnavailable(f"espeak_Synth returned error {result}")
            return b"".join(self._chunks)
        finally:
            self._chunks = []


def _locked_library() -> _Library:
    """Return the process's library, initialising it on first use; hold ``_LOCK``."""
    global _library
    if _library is None:
        _library = _Library()
    return _library


class EspeakEngine:
    """Vietnamese speech from eSpeak NG, offline, in the house MP3 format.

    ``rate`` is in words per minute (80–450) and ``pitch`` 0–100, eSpeak's own scales.
    ``voice`` is an eSpeak voice name: ``vi`` (northern), ``vi-vn-x-central`` or
    ``vi-vn-x-south``. ``lame_quality`` trades encoding time for quality (LAME ``-q``); 7
    halves the encoding time of 2, and the formant voice gains nothing audible from the
    slower psychoacoustic model.
    """

    name = "espeak"
    audio_format: AudioFormat = HOUSE_FORMAT
    # Synthesis is serialised by the library lock, but a second worker encodes one chunk
    # to MP3 while the next is being synthesised: the seed article in ~2/3 of the time.
    concurrency = 2

    def __init__(
        self,
        *,
        voice: str = "vi",
        rate: int = 165,
        pitch: int = 50,
        max_chars: int = 500,
        lame_quality: int = 7,
    ) -> None:
        if not 80 <= rate <= 450:
            raise ValueError(f"eSpeak's rate runs from 80 to 450 words per minute, got {rate}")
        if not 0 <= pitch <= 100:
            raise ValueError(f"eSpeak's pitch runs from 0 to 100, got {pitch}")
        if not 0 <= lame_quality <= 9:
            raise ValueError(f"LAME quality runs from 0 to 9, got {lame_quality}")
        if max_chars < 1:
            raise ValueError(f"max_chars must be positive, got {max_chars}")
        self.voice = voice
        self.rate = rate
        self.pitch = pitch
        # eSpeak has no hard limit; short chunks keep the first audio of a stream early.
        self.max_chars = max_chars
        self.lame_quality = lame_quality

    def __repr__(self) -> str:
        return f"EspeakEngine(voice={self.voice!r}, rate={self.rate}, pitch={self.pitch})"

    @property
    def version(self) -> str:
        """The libespeak-ng version, e.g. ``1.52.0``; loads the library on first use."""
        with _LOCK:
            return _locked_library().version

    @property
    def sound_params(self) -> Mapping[str, str]:
        """Voice, rate, pitch, eSpeak NG version and LAME quality: all change the audio."""
        return {
            "voice": self.voice,
            "rate": str(self.rate),
            "pitch": str(self.pitch),
            "espeak_ng": self.version,
            "lame_quality": str(self.lame_quality),
        }

    def synthesize(self, text: str, *, voice: str | None = None) -> bytes:
        """Return house-format MP3 frames of ``text`` read aloud; blocking.

        Raises :class:`SynthesisUnavailable` if the library cannot be loaded or fails,
        :class:`SynthesisRejected` if its audio cannot be encoded, and
        :class:`UnknownEngineError` for a voice eSpeak does not have.
        """
        voice = voice or self.voice
        if not text.strip():
            return silence(BLANK_SILENCE_SECONDS)
        # A NUL would end the C string early; lone surrogates cannot be UTF-8.
        data = text.replace("\x00", " ").encode("utf-8", "replace")
        started = time.perf_counter()
        with _LOCK:
            library = _locked_library()
            pcm = library.synthesize(data, voice=voice, rate=self.rate, pitch=self.pitch)
            sample_rate = library.sample_rate
        synthesized = time.perf_counter()
        try:
            frames = encode_pcm(pcm, sample_rate, quality=self.lame_quality)
        except AudioFormatError as exc:
            raise SynthesisRejected(f"eSpeak's audio could not be encoded: {exc}") from exc
        logger.debug(
            "espeak: %d chars -> %.2f s of audio (synthesis %.0f ms, encoding %.0f ms)",
            len(text),
            len(pcm) / 2 / sample_rate,
            1000 * (synthesized - started),
            1000 * (time.perf_counter() - synthesized),
        )
        return frames
