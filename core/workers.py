"""The worker's old import path, kept so that set-ups started as `rq worker -w core.workers.PipelineWorker` go on
working; the worker lives in core.jobs.workers."""

from core.jobs.workers import PipelineWorker, run_worker

__all__ = ["PipelineWorker", "run_worker"]
