"""RQ wiring: how jobs are enqueued, and the worker that runs them."""

from __future__ import annotations

import logging

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus

from core.config import Settings, get_settings

PIPELINE_FUNCTION = "core.pipeline.run_job"
RETRY_INTERVALS = [30, 120, 600]  # seconds; transient failures (rate limits, network) wait longer each time


class QueueUnavailable(RuntimeError):
    """Redis cannot be reached; the message says what to do."""


def connect(settings: Settings | None = None) -> Redis:
    settings = settings or get_settings()
    return Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=30, health_check_interval=30)


def _unavailable(settings: Settings, exc: Exception) -> QueueUnavailable:
    # Only host and port: the URL may carry a password.
    conn = connect(settings).connection_pool.connection_kwargs
    where = f"{conn.get('host', '?')}:{conn.get('port', '?')}"
    return QueueUnavailable(
        f"The job queue (Redis at {where}) cannot be reached: {type(exc).__name__}. "
        "Start Redis (the run command does) or set REDIS_URL, then retry."
    )


def rq_job_id(job_id: str) -> str:
    return f"vis-{job_id}"


def enqueue(job_id: str, settings: Settings | None = None) -> None:
    """Put the job on the pipeline queue unless it is already waiting or running there."""
    settings = settings or get_settings()
    try:
        redis = connect(settings)
        try:
            existing = RQJob.fetch(rq_job_id(job_id), connection=redis)
            if existing.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
                return
            existing.delete()
        except NoSuchJobError:
            pass
        Queue(settings.queue_name, connection=redis).enqueue(
            PIPELINE_FUNCTION,
            job_id,
            job_id=rq_job_id(job_id),
            job_timeout=settings.job_timeout_seconds,
            retry=Retry(max=settings.job_retries, interval=RETRY_INTERVALS[: max(1, settings.job_retries)]),
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
            description=f"pipeline {job_id}",
        )
    except RedisError as exc:
        raise _unavailable(settings, exc) from None


def run_worker(burst: bool = False) -> None:
    """Start one worker on the pipeline queue; each job runs in a forked child, as with `rq worker`."""
    from core.pipeline import prepare_models

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    prepare_models(settings)
    redis = connect(settings)
    # The worker wakes from waiting for work every worker_ttl - 15 s; only then does it run maintenance,
    # which is what notices jobs whose worker died and retries them.
    every = settings.worker_maintenance_seconds
    worker = Worker([Queue(settings.queue_name, connection=redis)], connection=redis,
                    maintenance_interval=every, worker_ttl=every + 15)
    worker.work(with_scheduler=True, burst=burst)
