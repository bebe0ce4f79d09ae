"""What every step is handed: the job, the store, the settings and the job's work dir."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.config import Settings
from core.library.indexing import text_to_analyse
from core.models import Job, Transcript
from core.providers.translate import translation_wanted, uses_audio
from core.sources.media import Download, PreparedAudio
from core.store import Store

PROGRESS_INTERVAL = 0.5  # seconds between progress writes to the store


@dataclass
class JobContext:
    job: Job
    store: Store
    settings: Settings
    workdir: Path
    _last_report: float = field(default=0.0)
    loading_ahead: set[str] = field(default_factory=set)  # engines a thread is loading (transcribing.load_ahead)
    loaders: list[threading.Thread] = field(default_factory=list)  # those threads: none outlives the job's run

    def finish_loading(self) -> None:
        """Wait for the engines being loaded ahead: a process must not end while a thread is inside an engine's
        native loading code (it aborts: "terminate called without an active exception")."""
        for loader in self.loaders:
            loader.join()

    def progress(self, fraction: float, detail: str = "") -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_report < PROGRESS_INTERVAL:
            return
        self._last_report = now
        self.store.update_job(self.job.id, progress=round(max(0.0, min(1.0, fraction)), 4), progress_detail=detail)

    # --- what the steps leave behind in the work dir ----------------------------------------
    @property
    def download_record(self) -> Path:
        return self.workdir / "download.json"

    @property
    def prepared_record(self) -> Path:
        return self.workdir / "prepared.json"

    @property
    def vectors_file(self) -> Path:
        return self.workdir / "embeddings.npy"

    @property
    def vectors_model_file(self) -> Path:
        return self.workdir / "embeddings.model"

    def needs_local_audio(self) -> bool:
        """Whether a step still to run works from the audio file: fetching resumes then even when the audio
        was stored already (e.g. after a restart on another machine)."""
        transcript = self.store.get_transcript(self.job.id)
        if transcript is None or self.store.get_audio_file(self.job.id) is None:
            return True
        if self.speakers_wanted(transcript) and not transcript.diarized:
            return True  # speakers are found from the audio
        return (uses_audio(self.settings) and translation_wanted(self.settings, transcript.language)
                and self.store.get_translation(self.job.id) is None)

    def speakers_wanted(self, transcript: Transcript | None) -> bool:
        """Whether this transcript's speakers are to be found: DIARIZATION is on and the words were heard, not the
        creator's captions (which carry no voices)."""
        return self.settings.diarization != "off" and transcript is not None and not transcript.from_captions

    def load_download(self) -> Download | None:
        if not self.download_record.is_file():
            return None
        data = json.loads(self.download_record.read_text())
        media = Path(data["media_path"])
        if not media.is_file():
            return None
        thumb = Path(data["thumbnail_path"]) if data.get("thumbnail_path") else None
        return Download(media, thumb if thumb and thumb.is_file() else None, data["metadata"])

    def load_prepared(self) -> PreparedAudio | None:
        if not self.prepared_record.is_file():
            return None
        data = json.loads(self.prepared_record.read_text())
        wav, stored = Path(data["wav_path"]), Path(data["stored_path"])
        if not (wav.is_file() and stored.is_file()):
            return None
        thumb = Path(data["thumbnail_path"]) if data.get("thumbnail_path") else None
        return PreparedAudio(wav, stored, thumb if thumb and thumb.is_file() else None, data["duration"],
                             data["stored_sample_rate"])

    def text_to_analyse(self) -> Transcript:
        return text_to_analyse(self.store, self.job.id)
