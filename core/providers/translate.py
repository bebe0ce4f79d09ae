"""The transcript in another language, one segment per transcript segment at the same times.

Offline, Whisper translates the audio itself into English (its translate task, with the context of
whole stretches of speech, which reads far better than sentence by sentence); each translated sentence
is then placed on the transcript segment it overlaps most. Hosted, gpt-4.1-mini translates the timed
segments into any language (core.providers.hosted.OpenAITranslator).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from core.config import Settings
from core.models import Segment, Transcript, Translation, base_language
from core.providers import EngineError
from core.providers.hosted import OpenAITranslator
from core.providers.transcribe import FasterWhisperTranscriber

log = logging.getLogger(__name__)
#: What Whisper's translate task produces, whatever was spoken.
WHISPER_TRANSLATES_TO = "en"


class Translator(Protocol):
    name: str

    def translate(self, transcript: Transcript, target: str, wav_path: Path | None, duration: float,
                  progress: Callable[[float, str], None]) -> Translation: ...


def align(pieces: list[Segment], segments: list[Segment]) -> list[Segment]:
    """`segments`' times, each with the text of the translated pieces that overlap it most (a piece in
    a pause goes to the nearest segment)."""
    texts: list[list[str]] = [[] for _ in segments]
    for piece in pieces:
        def fit(i: int, piece=piece) -> tuple[float, float]:
            overlap = min(piece.end, segments[i].end) - max(piece.start, segments[i].start)
            middle = (piece.start + piece.end) / 2
            return overlap, -abs((segments[i].start + segments[i].end) / 2 - middle)
        if segments and piece.text.strip():
            texts[max(range(len(segments)), key=fit)].append(piece.text.strip())
    return [Segment(start=s.start, end=s.end, text=" ".join(t)) for s, t in zip(segments, texts, strict=True)]


class WhisperTranslator:
    """Whisper's own translation of the audio, into English only."""

    def __init__(self, settings: Settings):
        self._whisper = FasterWhisperTranscriber(settings)
        self.name = f"{self._whisper.name}:translate"

    def translate(self, transcript: Transcript, target: str, wav_path: Path | None, duration: float,
                  progress: Callable[[float, str], None]) -> Translation:
        if base_language(target) != WHISPER_TRANSLATES_TO:
            raise EngineError(f"The offline translation speaks English only, not {target!r}: set TRANSLATE_TO=en, "
                              "or use a hosted engine (TRANSLATION_ENGINE=openai).")
        if wav_path is None or not wav_path.is_file():
            raise EngineError("The audio to translate is gone from the job's work folder; Retry fetches it again.")
        pieces, _ = self._whisper.decode(wav_path, duration, progress, task="translate",
                                         language=base_language(transcript.language) or None)
        return Translation(language=WHISPER_TRANSLATES_TO, source_language=transcript.language, engine=self.name,
                           segments=align(pieces, transcript.segments))


def get_translator(settings: Settings) -> Translator:
    if settings.uses_openai("translation"):
        return OpenAITranslator(settings)
    return WhisperTranslator(settings)


def uses_audio(settings: Settings) -> bool:
    """Whether translation works from the audio (offline), which the job must then still have at hand."""
    return not settings.uses_openai("translation")


def translation_wanted(settings: Settings, spoken: str | None) -> bool:
    """Whether a video spoken in `spoken` is translated: TRANSLATE_TO is set, differs from the spoken language
    (when known), and the chosen engine can translate into it (offline: English only)."""
    target = base_language(settings.translate_to)
    if not target or not base_language(spoken) or base_language(spoken) == target:
        return False
    if not (settings.uses_openai("translation") or target == WHISPER_TRANSLATES_TO):
        _unreachable(target)
        return False
    return True


@lru_cache(maxsize=8)
def _unreachable(target: str) -> None:
    """Said once per process, not for every video."""
    log.warning("TRANSLATE_TO=%s needs a hosted translation engine (TRANSLATION_ENGINE=openai); videos stay "
                "untranslated", target)
