"""Runs a job through the steps of `core.pipeline.registry.STEPS`, in order, under one time limit.

Each step records its output (files in the job's work dir, or rows in the store), and a step whose
output already exists is skipped, so a failed or killed job resumes where it stopped.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import threading
import time
from datetime import datetime, timedelta

from core.config import Settings, get_settings
from core.jobs import themes, webhooks
from core.jobs.queue import Lease, connect, retries_left, retry_delays
from core.jobs.submitting import create_or_existing, validate_all
from core.models import WORK_STAGES, Job, Stage
from core.pipeline.registry import STEPS
from core.pipeline.steps.context import JobContext
from core.processes import interrupt
from core.providers import EngineError, campplus, voice_prints
from core.providers.analyze import load_local_engines
from core.providers.bundled import minilm_files
from core.providers.embed import BUNDLED_EMBEDDING_NAMES
from core.providers.hosted import TransientEngineError
from core.providers.metering import meter
from core.providers.transcribe import get_transcriber
from core.sources import platforms
from core.sources.addresses import prepare_guarded_processes
from core.sources.media import MediaError, TransientMediaError
from core.store import LibraryUnavailable, MediaStoreRefused, Store, get_store
from core.store.base import GuardedWrites

log = logging.getLogger(__name__)


class TransientError(Exception):
    """Raised out of `run` so the queue retries the job later (only when it has retries left)."""


class JobTimedOut(Exception):
    """The job used up its time limit."""


class LeaseLost(Exception):
    """Another run of the job holds its lease now: this run stops before its next write."""


class TimeLimit:
    """A job's time limit: JOB_TIMEOUT_SECONDS, plus the media's duration once it is known. At the limit
    the running stage is interrupted (JobTimedOut, raised in the main thread by SIGALRM, or as soon as the write
    to the library in hand is done); a stage stuck where Python cannot interrupt it is ended with its process a
    minute later, after `on_stuck` ran."""

    GRACE = 60

    def __init__(self, base_seconds: float, on_stuck):
        self.started = time.monotonic()
        self.base = self.seconds = float(base_seconds)
        self._on_stuck = on_stuck
        self._done = threading.Event()
        self._changed = threading.Event()
        self._uses_signal = threading.current_thread() is threading.main_thread()
        if self._uses_signal:
            self._previous = signal.signal(signal.SIGALRM, self._expired)
        threading.Thread(target=self._watch, name="time-limit", daemon=True).start()
        self._arm()

    def allow_for(self, media_seconds: float | None) -> None:
        if media_seconds and self.base + media_seconds > self.seconds:
            self.seconds = self.base + media_seconds
            self._arm()

    def _remaining(self) -> float:
        return self.started + self.seconds - time.monotonic()

    def _arm(self) -> None:
        if self._uses_signal:
            signal.setitimer(signal.ITIMER_REAL, max(0.01, self._remaining()))
        self._changed.set()

    def _expired(self, signum, frame):
        interrupt(JobTimedOut(self.seconds))  # never in the middle of a write to the library: once it is done

    def _watch(self) -> None:
        while not self._done.is_set():
            self._changed.clear()
            wait = self._remaining() + self.GRACE
            if wait <= 0:
                self._on_stuck(self.seconds)
                os._exit(1)  # what is stuck cannot be interrupted from Python: the job's process ends
            self._changed.wait(min(wait, 60))

    def cancel(self) -> None:
        self._done.set()
        self._changed.set()
        if self._uses_signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)


def _duration_text(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def _out_of_time(stage: Stage, seconds: float) -> str:
    return (f"The job ran out of time while {stage.label.lower()}: its limit is {_duration_text(seconds)} "
            "(JOB_TIMEOUT_SECONDS plus the video's duration). Retry resumes from there.")


def run(job_id: str, settings: Settings | None = None, lease: Lease | None = None) -> Job:
    """Take one job through every remaining stage (see `_run`); a program that gave a callback URL hears
    when it ends. Under a `lease`, every write first checks that this run still holds it."""
    settings = settings or get_settings()
    try:
        job = _run(job_id, settings, lease)
    except LeaseLost:  # the run that took over writes the job's story and tells the program
        log.warning("job %s: another run took over its lease; this run stopped without writing", job_id)
        return get_store(service_role=True).get_job(job_id)
    webhooks.job_ended(job, settings)
    if job.status == Stage.COMPLETED:
        themes.after_completion(settings, queued=lease is not None)
    return job


def _run(job_id: str, settings: Settings, lease: Lease | None = None) -> Job:
    """Take one job through every remaining stage. Returns the job as it ended.

    Problems with the video or its content, bugs and a used-up time limit fail the job with a readable
    message. Transient problems (network, rate limits, the library briefly unreachable) are retried
    when this runs from the queue with retries left (TransientError is raised for RQ); otherwise they
    fail the job too, saying that Retry resumes it.
    """
    store = get_store(service_role=True)
    if lease is not None:
        store = GuardedWrites(store, lease.still_held, lambda: LeaseLost(job_id))
    job = store.get_job(job_id)
    if job is None:
        raise LookupError(f"No job {job_id} in the library.")
    # A job found in a work stage was left there by a run that stopped without ending it (its process killed,
    # its machine lost): the first stage this run enters says so.
    resumed_note = "resumed after its previous run stopped" if job.status in WORK_STAGES else ""
    context = JobContext(job=job, store=store, settings=settings, workdir=settings.work_dir(job_id))
    context.workdir.mkdir(parents=True, exist_ok=True)
    stage = Stage.PENDING
    limit = TimeLimit(settings.job_timeout_seconds,
                      on_stuck=lambda seconds: store.fail_job(job_id, stage, _out_of_time(stage, seconds)))
    limit.allow_for(job.duration)
    try:
        for step in STEPS:
            stage = step.status
            try:
                if (step.is_wanted and not step.is_wanted(context)) or step.is_done(context):
                    continue
                store.enter_stage(job_id, stage, resumed_note)
                resumed_note = ""
                with meter() as usage:
                    try:
                        step.perform(context)
                    finally:  # what a hosted engine used is paid for even when the stage then fails
                        if usage:
                            store.add_usage(job_id, [u.model_copy(update={"stage": stage.value}) for u in usage])
                if stage in (Stage.DOWNLOADING, Stage.EXTRACTING_AUDIO):
                    limit.allow_for(store.get_job(job_id).duration)
            except LeaseLost:
                raise
            except (TransientMediaError, TransientEngineError, LibraryUnavailable) as exc:
                return _after_transient_failure(store, job_id, stage, str(exc), settings)
            except (MediaError, EngineError, MediaStoreRefused) as exc:
                store.fail_job(job_id, stage, str(exc))
                return store.get_job(job_id)
            except JobTimedOut as exc:
                store.fail_job(job_id, stage, _out_of_time(stage, exc.args[0]))
                return store.get_job(job_id)
            except Exception as exc:  # a bug: fail once, with the error, and do not retry
                log.exception("job %s failed in %s", job_id, stage.value)
                store.fail_job(job_id, stage, f"Unexpected error while {stage.label.lower()}: "
                                              f"{type(exc).__name__}: {exc}. Retry resumes from there.")
                return store.get_job(job_id)
    finally:
        limit.cancel()
        context.finish_loading()
    store.enter_stage(job_id, Stage.COMPLETED)
    shutil.rmtree(context.workdir, ignore_errors=True)
    return store.get_job(job_id)


def _after_transient_failure(store: Store, job_id: str, stage: Stage, message: str, settings: Settings) -> Job:
    """Wait for the queue's next try when there is one; otherwise fail, saying how to go on."""
    queued = retries_left()
    resume = f"Retry resumes from {stage.label.lower()}."
    if queued and queued[1] > 0:
        attempt, left = queued
        delays = retry_delays(settings)
        delay = delays[max(len(delays) - left, 0)]
        when = (datetime.now() + timedelta(seconds=delay)).strftime("%H:%M:%S")
        try:
            store.update_job(job_id, status=Stage.PENDING, error=message,
                             progress_detail=f"try {attempt + 1} of {attempt + left} at {when}, after: {message}")
        except LibraryUnavailable:
            pass  # the queue's retry resumes it all the same
        raise TransientError(message)
    attempts = queued[0] if queued else 1
    tried = "" if attempts == 1 else f" (tried {attempts} times)"
    try:
        store.fail_job(job_id, stage, f"{message}{tried} {resume}")
    except LibraryUnavailable:  # nothing can be recorded now: the queue's recovery fails it later
        raise TransientError(message) from None
    return store.get_job(job_id)


def run_now(url: str, *, force: bool = False, settings: Settings | None = None) -> Job:
    """Validate and run the whole pipeline in this process (no queue)."""
    prepare_guarded_processes()  # loads the downloader meanwhile
    settings = settings or get_settings()
    store = get_store()
    submission = create_or_existing(store, validate_all([url], settings)[0], force, settings)
    if not submission.created and submission.job.status == Stage.COMPLETED:
        return submission.job
    try:
        return run(submission.job.id, settings)
    except TransientError:
        return store.get_job(submission.job.id)  # failed, with the reason; `retry` resumes it


def run_job(job_id: str) -> str:
    """The function the queue calls (by its dotted name)."""
    store = get_store(service_role=True)
    job = store.get_job(job_id)
    if job is None:
        log.info("job %s was deleted before it ran", job_id)
        return "deleted"
    if job.is_final:  # a stale queue entry: the job was cancelled or ended since
        log.info("job %s is already %s", job_id, job.status.value)
        return job.status.value
    lease = Lease(job_id, connect())
    if not lease.acquire():  # its recovery round puts the job back on the queue if that run dies
        log.warning("job %s is being run by another worker", job_id)
        return "running elsewhere"
    try:
        return run(job_id, lease=lease).status.value
    finally:
        lease.release()


def prepare_models(settings: Settings | None = None) -> None:
    """Put model files in place (the bundled Whisper model is assembled on first use) before any job.

    Nothing is loaded here: CTranslate2 and ONNX Runtime thread pools do not survive the fork that
    starts each job, so every job loads its engines in its own process.
    """
    settings = settings or get_settings()
    get_transcriber(settings)
    if not settings.uses_openai("embedding") and settings.embedding_model in BUNDLED_EMBEDDING_NAMES:
        minilm_files()  # checked once here; every job's process inherits the answer
    if settings.diarization != "off":
        try:
            # likewise; a job without them completes with one voice, saying why
            (campplus if settings.speaker_model == "campplus" else voice_prints).weights_file()
        except EngineError as exc:
            log.warning("speakers will not be found: %s", exc)


def preload_for_jobs() -> None:
    """Load, in a worker's own process, what every job uses and what survives the fork that starts each
    job: yt-dlp's extractors with their link patterns compiled, and the local analysis's libraries and word
    lists (pure Python, no threads). Each job then starts with them in memory rather than spending ~1.4 s of
    its own on them (measured on a 2-core machine). The forkserver that starts every job's download starts
    too, and loads yt-dlp for them meanwhile."""
    prepare_guarded_processes()
    platforms.warm_up()
    load_local_engines()
