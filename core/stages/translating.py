"""Translating: a video spoken in another language than TRANSLATE_TO is translated into it, so the whole
library is analysed and searched in one language; the transcript stays as spoken."""

from __future__ import annotations

from core.providers.translate import get_translator, translation_wanted, uses_audio
from core.stages.context import Run


def needs_translation(run: Run) -> bool:
    transcript = run.store.get_transcript(run.job.id)
    return transcript is not None and translation_wanted(run.settings, transcript.language)


def translate(run: Run) -> None:
    transcript = run.store.get_transcript(run.job.id)
    translator = get_translator(run.settings)
    target = run.settings.translate_to.strip()
    prepared = run.load_prepared() if uses_audio(run.settings) else None
    run.progress(0.0, f"{transcript.language} to {target} with {translator.name}")
    translation = translator.translate(transcript, target, prepared.wav_path if prepared else None,
                                       prepared.duration if prepared else 0.0, run.progress)
    run.store.save_translation(run.job.id, translation)


def translated(run: Run) -> bool:
    return run.store.get_translation(run.job.id) is not None
