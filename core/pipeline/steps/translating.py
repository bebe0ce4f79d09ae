"""Translating: a video spoken in another language than TRANSLATE_TO is translated into it, so the whole
library is analysed and searched in one language; the transcript stays as spoken."""

from __future__ import annotations

from core.pipeline.steps.context import JobContext
from core.providers.translate import get_translator, translation_wanted, uses_audio


def needs_translation(context: JobContext) -> bool:
    transcript = context.store.get_transcript(context.job.id)
    return transcript is not None and translation_wanted(context.settings, transcript.language)


def translate(context: JobContext) -> None:
    transcript = context.store.get_transcript(context.job.id)
    translator = get_translator(context.settings)
    target = context.settings.translate_to.strip()
    prepared = context.load_prepared() if uses_audio(context.settings) else None
    context.progress(0.0, f"{transcript.language} to {target} with {translator.name}")
    translation = translator.translate(transcript, target, prepared.wav_path if prepared else None,
                                       prepared.duration if prepared else 0.0, context.progress)
    context.store.save_translation(context.job.id, translation)


def translated(context: JobContext) -> bool:
    return context.store.get_translation(context.job.id) is not None
