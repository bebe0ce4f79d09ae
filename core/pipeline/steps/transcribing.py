"""Transcribing: the creator's own captions when the site has them, else speech-to-text."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from core.models import Transcript
from core.pipeline.steps import analyzing
from core.pipeline.steps.context import JobContext
from core.providers.diarize import encoder_for
from core.providers.prompts import fitting, prompt_for, words_of
from core.providers.transcribe import get_transcriber
from core.sources.captions import transcript_from

log = logging.getLogger(__name__)


def transcribe(context: JobContext) -> None:
    captioned = _creator_captions(context)
    if captioned is not None:  # the creator's own words and times: no speech-to-text
        context.store.save_transcript(context.job.id, captioned)
        return
    prepared = context.load_prepared()
    transcriber = get_transcriber(context.settings)
    context.progress(0.0, f"loading {transcriber.name}")
    words = expected_words(context)
    prompt = prompt_for(words)
    transcript = transcriber.transcribe(prepared.wav_path, prepared.duration, context.progress, prompt=prompt)
    if context.settings.diarization == "off":  # a hosted model's speaker labels are not wanted either
        transcript = transcript.without_speakers()
    context.store.save_transcript(context.job.id, transcript.model_copy(update={"vocabulary": words,
                                                                                "prompt": prompt}))


def expected_words(context: JobContext) -> list[str]:
    """VOCABULARY and the video's collection's words, as many as Whisper's prompt holds."""
    job = context.store.get_job(context.job.id)
    collection = next(iter(context.store.get_collections([job.collection_id])), None) if job.collection_id else None
    words = words_of(words_of(context.settings.vocabulary) + (collection.vocabulary if collection else []))
    fit = fitting(words)
    if fit < len(words):
        log.warning("job %s: %d of %d vocabulary words fit in the prompt", context.job.id, fit, len(words))
    return words[:fit]


def load_ahead(context: JobContext, *, captions_expected: bool | None = None) -> None:
    """Start loading, on another thread, the speech-to-text engine (not when the creator's captions will be
    used instead), then what analysing and embedding use, so that they are ready when their stages start
    (~1 s and ~0.7 s less per job on a 2-core machine). Called as soon as the download knows whether the
    captions will serve (the media then downloads in another process, mostly waiting on the network), and
    again when the audio is extracted (ffmpeg leaves a core free), which loads what is still missing, e.g.
    when a job resumes there. A load that fails here fails again, with its message, in its own stage."""
    if captions_expected is None:
        captions_expected = _caption_file(context) is not None
    wanted = ["analysis and embedding"]
    if not (captions_expected or transcribed(context)):
        wanted.insert(0, "speech-to-text")
        if context.settings.diarization != "off":
            wanted.insert(1, "speaker voices")
    names = [name for name in wanted if name not in context.loading_ahead]
    if not names:
        return
    context.loading_ahead.update(names)
    engines = {"speech-to-text": lambda: get_transcriber(context.settings).load(),
               "speaker voices": lambda: encoder_for(context.settings.speaker_model, context.settings.whisper_threads),
               "analysis and embedding": lambda: analyzing.load_ahead(context)}

    def load() -> None:
        for name in names:
            try:
                engines[name]()
            except Exception:  # noqa: BLE001 - reported by the stage's own load
                log.debug("job %s: loading %s ahead failed", context.job.id, name, exc_info=True)

    loader = threading.Thread(target=load, name="load-ahead", daemon=True)
    context.loaders.append(loader)
    loader.start()


def transcribed(context: JobContext) -> bool:
    return context.store.get_transcript(context.job.id) is not None


def _caption_file(context: JobContext) -> dict | None:
    """The creator's caption file the download kept (path, format, language), if any."""
    fetched = context.load_download()
    captions = fetched.metadata.get("captions") if fetched else None
    return captions if captions and Path(captions["path"]).is_file() else None


def _creator_captions(context: JobContext) -> Transcript | None:
    captions = _caption_file(context)
    if captions is None:
        return None
    text = Path(captions["path"]).read_text(encoding="utf-8", errors="replace")
    try:
        return transcript_from(text, captions["format"], captions["language"])
    except Exception:  # noqa: BLE001 - a caption file we cannot read: the audio is transcribed instead
        log.warning("job %s: unreadable %s captions, transcribing the audio", context.job.id, captions["format"])
        return None
