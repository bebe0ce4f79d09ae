"""Analyzing: summary, topics, sentiment and category, on the translation when there is one."""

from __future__ import annotations

from core.providers.analyze import category_vectors, get_analyzer, load_local_engines
from core.providers.embed import get_embedder
from core.stages.context import Run


def analyze(run: Run) -> None:
    job = run.store.get_job(run.job.id)
    analyzer = get_analyzer(run.settings, get_embedder(run.settings))
    analysis = analyzer.analyze(run.text_to_analyse(), job.title, job.description)
    spoken = run.store.get_transcript(job.id).language  # the analysis may be of the translation
    run.store.save_analysis(job.id, analysis.model_copy(update={"language": spoken}))


def analyzed(run: Run) -> bool:
    return run.store.get_analysis(run.job.id) is not None


def load_ahead(run: Run) -> None:
    """Load what analysing and embedding use, ahead of those stages: the local analysis's libraries, the
    local embedding model and the categories' vectors (~0.7 s of a job's time on a 2-core machine).
    Hosted engines need nothing loaded."""
    settings = run.settings
    if not settings.uses_openai("analysis"):
        load_local_engines()
    if not settings.uses_openai("embedding"):
        embedder = get_embedder(settings)
        if not settings.uses_openai("analysis"):
            category_vectors(embedder)
