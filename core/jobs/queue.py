"""RQ wiring: how jobs are enqueued and stopped, which run holds a job, and the worker that runs them.

The library is the source of truth and Redis a cache of work to do: whatever the queue loses is put
back from the job rows by `core.jobs.recovery`, which every worker (`core.jobs.workers`) runs when it starts and
on each maintenance round.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from functools import cache

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker
from rq.command import send_stop_job_command
from rq.exceptions import DuplicateJobError, InvalidJobOperation, NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus

from core.config import Settings, get_settings

PIPELINE_FUNCTION = "core.pipeline.run_job"
#: RQ states in which a job will still run, or is running.
LIVE_STATES = (JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED)
STOP_WAIT_SECONDS = 30  # how long stopping a running job may take before we say it could not be stopped


class QueueUnavailable(RuntimeError):
    """Redis cannot be reached; the message says what to do."""


class JobBusy(RuntimeError):
    """The job is running and could not be stopped; the message says what to do."""


def connect(settings: Settings | None = None) -> Redis:
    settings = settings or get_settings()
    return Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=30, health_check_interval=30)


def unavailable(settings: Settings, exc: Exception) -> QueueUnavailable:
    # Only host and port: the URL may carry a password.
    conn = connect(settings).connection_pool.connection_kwargs
    where = f"{conn.get('host', '?')}:{conn.get('port', '?')}"
    return QueueUnavailable(
        f"The job queue (Redis at {where}) cannot be reached: {type(exc).__name__}. "
        "Start Redis (the run command does) or set REDIS_URL, then retry."
    )


def rq_job_id(job_id: str) -> str:
    return f"vis-{job_id}"


def retry_delays(settings: Settings) -> list[int]:
    """Seconds to wait before each retry: the delay, then four times longer each time."""
    return [settings.job_retry_delay_seconds * 4**n for n in range(max(1, settings.job_retries))]


def fetch(job_id: str, redis: Redis) -> RQJob | None:
    try:
        return RQJob.fetch(rq_job_id(job_id), connection=redis)
    except NoSuchJobError:
        return None


def state(job_id: str, redis: Redis) -> JobStatus | None:
    """The job's RQ state, or None when the queue holds no record of it."""
    found = fetch(job_id, redis)
    return found.get_status(refresh=False) if found else None


def enqueue(job_id: str, settings: Settings | None = None) -> None:
    """Put the job on the pipeline queue unless it is already waiting or running there."""
    settings = settings or get_settings()
    try:
        redis = connect(settings)
        existing = fetch(job_id, redis)
        if existing is not None:
            if existing.get_status(refresh=False) in LIVE_STATES:
                return
            existing.delete()
        retries = settings.job_retries
        try:
            Queue(settings.queue_name, connection=redis).enqueue(
                PIPELINE_FUNCTION,
                job_id,
                job_id=rq_job_id(job_id),
                # The pipeline keeps its own time limit, sized by the media's duration once it is known.
                job_timeout=-1,
                retry=Retry(max=retries, interval=retry_delays(settings)) if retries > 0 else None,
                meta={"retries": retries},
                result_ttl=24 * 3600,
                failure_ttl=7 * 24 * 3600,
                description=f"pipeline {job_id}",
                unique=True,
            )
        except DuplicateJobError:
            pass  # queued a moment ago by someone else (another app, a worker's recovery round)
    except RedisError as exc:
        raise unavailable(settings, exc) from None


def enqueue_task(function: str, *args, retry_delays: list[int], description: str,
                 settings: Settings | None = None) -> None:
    """A short task (by its dotted name) ahead of the queued pipeline jobs, tried again after each delay."""
    settings = settings or get_settings()
    try:
        Queue(settings.queue_name, connection=connect(settings)).enqueue(
            function, *args, retry=Retry(max=len(retry_delays), interval=retry_delays), at_front=True,
            result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600, description=description)
    except RedisError as exc:
        raise unavailable(settings, exc) from None


def schedule_task(function: str, *args, at, task_id: str, description: str,
                  settings: Settings | None = None) -> bool:
    """A short task (by its dotted name) run by a worker's scheduler at `at` (RQ's enqueue_at), once however often it
    is asked for under the same `task_id`; whether this call scheduled it."""
    settings = settings or get_settings()
    try:
        Queue(settings.queue_name, connection=connect(settings)).enqueue_at(
            at, function, *args, job_id=task_id, unique=True, result_ttl=24 * 3600, failure_ttl=7 * 24 * 3600,
            description=description)
    except DuplicateJobError:
        return False
    except RedisError as exc:
        raise unavailable(settings, exc) from None
    return True


def stop(job_id: str, settings: Settings | None = None) -> None:
    """Take the job off the queue, or stop its running work (RQ's stop-job command) and wait until it has
    stopped, so nothing it was doing can write to the library afterwards."""
    settings = settings or get_settings()
    try:
        redis = connect(settings)
        found = fetch(job_id, redis)
        if found is None:
            return
        status = found.get_status()
        if status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED):
            found.cancel()
            if found.get_status() != JobStatus.STARTED:
                return
        elif status != JobStatus.STARTED:
            return
        try:
            send_stop_job_command(redis, rq_job_id(job_id))
        except InvalidJobOperation:
            pass  # it ended between the two questions
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        while found.get_status() == JobStatus.STARTED:
            if time.monotonic() > deadline:
                raise JobBusy(f"Job {job_id} is running and did not stop within {STOP_WAIT_SECONDS} s. Try again "
                              "in a moment; if it keeps running, stop its worker.")
            time.sleep(0.2)
        Lease(job_id, redis).clear()  # its process is gone: the next run need not wait for the lease to lapse
    except RedisError as exc:
        raise unavailable(settings, exc) from None


@dataclass
class QueueStatus:
    workers: int
    queued: int


def status(settings: Settings | None = None) -> QueueStatus:
    """Live workers on the pipeline queue, and jobs waiting in it."""
    settings = settings or get_settings()
    try:
        redis = connect(settings)
        pipeline = Queue(settings.queue_name, connection=redis)
        return QueueStatus(workers=Worker.count(queue=pipeline), queued=pipeline.count)
    except RedisError as exc:
        raise unavailable(settings, exc) from None


def retries_left() -> tuple[int, int] | None:
    """(attempt number, retries left) of the queued run this process is executing, or None outside one."""
    from rq import get_current_job

    current = get_current_job()
    if current is None:
        return None
    planned = int(current.meta.get("retries", 0))
    left = current.retries_left or 0
    return planned - left + 1, left


class Lease:
    """Which run is executing a job: a Redis key renewed while the run lives. A second run of the same job (a
    worker that died while its work horse went on, a queue emptied and refilled) does not start while the key is
    held; one that died lets it lapse, and the recovery round then puts the job back on the queue. A run that finds
    its lease taken by another stops before its next write (core.pipeline)."""

    TTL = 30
    RENEW_EVERY = 10

    # Replaces the holder's token with ours only if it is still the one we found gone.
    _TAKE_OVER = ("if redis.call('get', KEYS[1]) == ARGV[1] then "
                  "return redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3]) end")

    def __init__(self, job_id: str, redis: Redis):
        self.key = f"vis:running:{job_id}"
        self.redis = redis
        # Which process runs the job, on which machine: for people, tests, and telling a dead holder on this machine.
        self.token = f"{os.getpid()}:{_this_machine()}:{uuid.uuid4().hex}"
        self.lost = False
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def holder(self) -> str | None:
        """The token of the run holding the lease; None when none does."""
        token = self.redis.get(self.key)
        return token.decode() if token is not None else None

    def acquire(self) -> bool:
        """Take the lease unless another run holds it; never waits. A lease whose holder was a process of this
        machine that is gone (the job's process was killed and RQ runs the job again) is taken over at once."""
        taken = self.redis.set(self.key, self.token, nx=True, ex=self.TTL)
        if not taken:
            holder = self.holder()
            if holder is None or not gone_from_here(holder):
                return False
            taken = self.redis.eval(self._TAKE_OVER, 1, self.key, holder, self.token, self.TTL)
            if not taken:
                return False
        self._renewer = threading.Thread(target=self._renew, name="job-lease", daemon=True)
        self._renewer.start()
        return True

    def still_held(self) -> bool:
        """Whether this run still holds the lease, asked of Redis now (a Redis that lost its data gives it back).
        True while Redis cannot be asked: a restarting Redis is not another run."""
        if self.lost:
            return False
        try:
            holder = self.redis.get(self.key)
            if holder is None:
                self.lost = not self.redis.set(self.key, self.token, nx=True, ex=self.TTL)
            elif holder.decode() != self.token:
                self.lost = True
        except RedisError:
            pass
        return not self.lost

    def _renew(self) -> None:
        while not self._stop.wait(self.RENEW_EVERY):
            if not self.still_held():
                return
            try:
                self.redis.expire(self.key, self.TTL)
            except RedisError:
                continue  # Redis restarting; the next round tries again

    def release(self) -> None:
        self._stop.set()
        try:
            if (self.redis.get(self.key) or b"").decode() == self.token:
                self.redis.delete(self.key)
        except RedisError:
            pass  # it lapses by itself

    def clear(self) -> None:
        self.redis.delete(self.key)


@cache
def _this_machine() -> str:
    """The host name, and the process-id namespace: containers that share a host name (host networking) do not
    see each other's processes, so only a process of the same namespace can be told gone."""
    try:
        namespace = os.readlink("/proc/self/ns/pid").removeprefix("pid:").strip("[]")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}@{namespace}"


def gone_from_here(token: str) -> bool:
    """Whether a lease token names a process of this machine that no longer runs."""
    pid, _, rest = token.partition(":")
    machine = rest.partition(":")[0]
    if machine != _this_machine() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
