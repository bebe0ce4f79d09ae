"""Diarizing: who speaks when. Segments are split where the voice changes and each names its speaker; the
transcript keeps the speakers' talk time and voice prints, and the names of known people they sound like.
Creator captions carry no voices and are left as they are. A diarizer that fails leaves the transcript as one
voice, says why, and fails nothing else."""

from __future__ import annotations

import logging

from core.library.voices import suggest
from core.pipeline.steps.context import JobContext
from core.providers import EngineError
from core.providers.diarize import diarize, match_labels

log = logging.getLogger(__name__)


def needs_speakers(context: JobContext) -> bool:
    return context.speakers_wanted(context.store.get_transcript(context.job.id))


def find_speakers(context: JobContext) -> None:
    # The engines loaded ahead import some of the libraries the diarizer imports (scikit-learn): importing one
    # module from two threads at once can fail half-way ("partially initialized module"), so they finish first.
    context.finish_loading()
    transcript = context.store.get_transcript(context.job.id)
    prepared = context.load_prepared()
    labelled = any(segment.speaker for segment in transcript.segments)  # by a hosted model, piece by piece
    try:
        found = (match_labels if labelled else diarize)(prepared.wav_path, transcript, context.settings.max_speakers,
                                                       context.progress, context.settings.whisper_threads,
                                                       context.settings.speaker_model)
    except (EngineError, OSError, RuntimeError, ValueError, MemoryError) as exc:
        log.warning("job %s: no speakers found: %s", context.job.id, exc)
        context.store.save_transcript(context.job.id, transcript.without_speakers().model_copy(update={
            "diarized": True, "speakers": [], "speakers_note": f"Speakers could not be told apart: {exc}"}))
        return
    speakers = found.speakers
    if context.settings.voice_profiles == "on" and speakers:  # who they sound like, for a person to confirm
        speakers = suggest(speakers, context.store.get_voice_samples(), job_id=context.job.id)
    note = None if len(found.speakers) > 1 else "One voice speaks throughout." if found.speakers else (
        "No speech long enough to tell voices apart.")
    context.store.save_transcript(context.job.id, transcript.model_copy(update={
        "segments": found.segments, "diarized": True, "speakers": speakers, "speakers_note": note}))


def diarized(context: JobContext) -> bool:
    transcript = context.store.get_transcript(context.job.id)
    return transcript is not None and transcript.diarized
