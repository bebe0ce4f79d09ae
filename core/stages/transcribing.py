"""Transcribing: the creator's own captions when the site has them, else speech-to-text."""

from __future__ import annotations

import logging
from pathlib import Path

from core.captions import transcript_from
from core.models import Transcript
from core.providers.transcribe import get_transcriber
from core.stages.context import Run

log = logging.getLogger(__name__)


def transcribe(run: Run) -> None:
    captioned = _creator_captions(run)
    if captioned is not None:  # the creator's own words and times: no speech-to-text
        run.store.save_transcript(run.job.id, captioned)
        return
    prepared = run.load_prepared()
    transcriber = get_transcriber(run.settings)
    run.progress(0.0, f"loading {transcriber.name}")
    transcript = transcriber.transcribe(prepared.wav_path, prepared.duration, run.progress)
    run.store.save_transcript(run.job.id, transcript)


def transcribed(run: Run) -> bool:
    return run.store.get_transcript(run.job.id) is not None


def _creator_captions(run: Run) -> Transcript | None:
    fetched = run.load_download()
    captions = fetched.metadata.get("captions") if fetched else None
    if not captions or not Path(captions["path"]).is_file():
        return None
    text = Path(captions["path"]).read_text(encoding="utf-8", errors="replace")
    try:
        return transcript_from(text, captions["format"], captions["language"])
    except Exception:  # noqa: BLE001 - a caption file we cannot read: the audio is transcribed instead
        log.warning("job %s: unreadable %s captions, transcribing the audio", run.job.id, captions["format"])
        return None
