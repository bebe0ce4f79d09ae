"""Analyzing: summary, topics, sentiment and category, on the translation when there is one."""

from __future__ import annotations

from core.pipeline.steps.context import JobContext
from core.providers.analyze import category_vectors, get_analyzer, load_local_engines
from core.providers.embed import get_embedder


def analyze(context: JobContext) -> None:
    job = context.store.get_job(context.job.id)
    analyzer = get_analyzer(context.settings, get_embedder(context.settings))
    analysis = analyzer.analyze(context.text_to_analyse(), job.title, job.description)
    spoken = context.store.get_transcript(job.id).language  # the analysis may be of the translation
    context.store.save_analysis(job.id, analysis.model_copy(update={"language": spoken}))


def analyzed(context: JobContext) -> bool:
    return context.store.get_analysis(context.job.id) is not None


def load_ahead(context: JobContext) -> None:
    """Load what analysing and embedding use, ahead of those stages: the local analysis's libraries, the
    local embedding model and the categories' vectors (~0.7 s of a job's time on a 2-core machine).
    Hosted engines need nothing loaded."""
    settings = context.settings
    if not settings.uses_openai("analysis"):
        load_local_engines()
    if not settings.uses_openai("embedding"):
        embedder = get_embedder(settings)
        if not settings.uses_openai("analysis"):
            category_vectors(embedder)
