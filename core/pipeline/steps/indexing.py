"""Generating embeddings and storing them: one vector per segment (of the translation when there is
one, so the whole library is searched in one language), then the video's; a long video without chapters of its
creator's gets them where its talk changes subject."""

from __future__ import annotations

import numpy as np

from core.library.chapters import generated_chapters
from core.library.indexing import embed_transcript, save_vectors
from core.pipeline.steps.context import JobContext
from core.providers.embed import get_embedder
from core.providers.hosted import chapter_titles


def embed(context: JobContext) -> None:
    embedder = get_embedder(context.settings)
    np.save(context.vectors_file, embed_transcript(context.text_to_analyse(), embedder, context.progress))
    context.vectors_model_file.write_text(embedder.model)


def embedded(context: JobContext) -> bool:
    model = get_embedder(context.settings).model
    computed = context.vectors_file.is_file() and context.vectors_model_file.is_file()
    return context.store.has_embeddings(context.job.id, model) or (
        computed and context.vectors_model_file.read_text() == model)


def store_vectors(context: JobContext) -> None:
    vectors = np.load(context.vectors_file)
    job = context.store.get_job(context.job.id)
    if not job.chapters and (job.duration or 0) >= context.settings.chapters_min_seconds:
        transcript = context.text_to_analyse()  # the segments the vectors are of, in order
        settings = context.settings
        titler = (lambda texts: chapter_titles(settings, texts)) if settings.uses_openai("analysis") else None
        found = generated_chapters(transcript.segments, vectors, job.duration, titler)
        if found:
            context.store.update_job(job.id, chapters=found)
    # last: the vectors are what marks this step done, so a run stopped before them finds chapters again
    save_vectors(context.store, job.id, context.vectors_model_file.read_text(), context.text_to_analyse(), vectors)


def stored(context: JobContext) -> bool:
    return context.store.has_embeddings(context.job.id, get_embedder(context.settings).model)
