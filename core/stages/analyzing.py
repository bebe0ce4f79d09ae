"""Analyzing: summary, topics, sentiment and category, on the translation when there is one."""

from __future__ import annotations

from core.providers.analyze import get_analyzer
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
