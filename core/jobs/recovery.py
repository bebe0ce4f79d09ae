"""Rebuild the queue from the library: no job waits for ever, and every job ends.

A job that is pending or in a work stage should have a live RQ job (queued, started, scheduled or
deferred) or a run holding its lease. When it has neither, either the queue lost it (Redis restarted
without its data, or the enqueue never happened): it goes back on the queue and resumes from its
stage; or RQ gave up on it (retries ran out while its worker kept dying, or someone stopped it):
the job fails with a message that says what happened and where.
"""

from __future__ import annotations

import logging
import re
import signal
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.exceptions import RedisError
from rq.job import JobStatus

from core.config import Settings, get_settings
from core.jobs import webhooks
from core.jobs.queue import LIVE_STATES, Lease, connect, enqueue, fetch, gone_from_here, unavailable
from core.models import WORK_STAGES, Job, Stage
from core.store import get_store

log = logging.getLogger(__name__)


@dataclass
class Recovered:
    requeued: list[str]
    failed: list[str]


def recover(settings: Settings | None = None) -> Recovered:
    """Requeue what the queue lost and fail what it gave up on; returns the job ids of each."""
    settings = settings or get_settings()
    store = get_store(service_role=True)
    result = Recovered([], [])
    waiting = store.list_jobs(statuses=[Stage.PENDING.value, *(s.value for s in WORK_STAGES)])
    if not waiting:
        return result
    try:
        redis = connect(settings)
        for job in waiting:
            found = fetch(job.id, redis)
            status = found.get_status(refresh=False) if found else None
            holder = Lease(job.id, redis).holder()
            if status == JobStatus.STARTED and (gone_from_here(holder) if holder else _run_died(found)):
                # RQ still counts it as running, but its run stopped renewing its lease, or is a process of this
                # machine that no longer runs: it was killed or its machine lost (RQ itself would notice only when
                # the worker's heartbeat lapses, 60 s and more later). It goes back on the queue and resumes from
                # its stage.
                found.delete()
                enqueue(job.id, settings)
                result.requeued.append(job.id)
                continue
            if status in LIVE_STATES or holder:
                continue
            if status in (JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED):
                store.fail_job(job.id, job.stage, gave_up_message(job, found, status))
                webhooks.job_ended(store.get_job(job.id), settings)
                result.failed.append(job.id)
            elif job.status == Stage.PENDING or _quiet_for(job) > Lease.TTL * 2:
                # Lost by the queue. A job in a work stage whose record vanished may still be running (Redis
                # was emptied under it): its run takes its lease again within Lease.RENEW_EVERY seconds.
                enqueue(job.id, settings)
                result.requeued.append(job.id)
    except RedisError as exc:
        raise unavailable(settings, exc) from None
    if result.requeued or result.failed:
        log.info("recovery: requeued %s, failed %s", result.requeued, result.failed)
    return result


def _run_died(rq_job) -> bool:
    """A run takes its lease as it starts and renews it while it lives: one that started longer ago than the
    lease lasts and holds none is gone."""
    started = rq_job.started_at
    if started is None:
        return False
    started = started if started.tzinfo else started.replace(tzinfo=UTC)
    return (datetime.now(UTC) - started).total_seconds() > Lease.TTL + Lease.RENEW_EVERY


def _quiet_for(job: Job) -> float:
    return (datetime.now(UTC) - datetime.fromisoformat(job.updated_at)).total_seconds()


def gave_up_message(job: Job, rq_job, status: JobStatus) -> str:
    """Why RQ stopped running the job, for a person, and how to go on."""
    where = job.stage.label.lower() if job.stage in WORK_STAGES else "waiting to start"
    resume = f"Retry resumes from {job.stage.label.lower()}." if job.stage in WORK_STAGES else "Retry starts it."
    if status in (JobStatus.STOPPED, JobStatus.CANCELED):
        return f"Stopped from the queue while {where}. {resume}"
    attempts = int(rq_job.meta.get("retries", 0)) - (rq_job.retries_left or 0) + 1
    times = "once" if attempts == 1 else f"{attempts} times"
    result = rq_job.latest_result()
    reason = (result.exc_string or "") if result else ""
    killed = re.search(r"signal (\d+)", reason)
    if killed:
        number = int(killed.group(1))
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        why = (f"its process was killed ({name}: the system may have run out of memory)" if name == "SIGKILL"
               else f"its process was ended by {name}")
        return f"The worker stopped {times} while {where}: {why}. {resume}"
    if "terminated unexpectedly" in reason or "Abandoned" in reason or not reason:
        return (f"The worker stopped {times} while {where} (it was shut down, restarted or its machine was "
                f"lost). {resume}")
    last_line = reason.strip().splitlines()[-1][:300]
    return f"The job failed {times} while {where}: {last_line}. {resume}"
