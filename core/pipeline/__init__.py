"""What a job goes through: the runner (runner) takes it through the steps the registry lists (registry), each a
module of steps/, and records each stage on the job."""

from core.pipeline.runner import (
    JobTimedOut,
    LeaseLost,
    TransientError,
    preload_for_jobs,
    prepare_models,
    run,
    run_job,
    run_now,
)

__all__ = ["JobTimedOut", "LeaseLost", "TransientError", "preload_for_jobs", "prepare_models", "run", "run_job",
           "run_now"]
