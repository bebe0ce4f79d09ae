"""The stages that turn a job's URL into a stored transcript, analysis and embeddings.

Each stage records its output (files in the job's work dir, or rows in the store), and a stage whose
output already exists is skipped, so a failed or killed job resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from core import webhooks
from core.captions import transcript_from
from core.config import Settings, get_settings
from core.media import Download, MediaError, PreparedAudio, Progress, TransientMediaError, download, prepare
from core.models import VECTOR_BATCH, AudioFile, Job, Stage, Transcript
from core.providers import EngineError
from core.providers.analyze import get_analyzer
from core.providers.bundled import minilm_files
from core.providers.embed import BUNDLED_EMBEDDING_NAMES, Embedder, get_embedder
from core.providers.hosted import TransientEngineError
from core.providers.metering import meter
from core.providers.transcribe import get_transcriber
from core.queue import Lease, connect, retries_left, retry_delays
from core.store import LibraryUnavailable, Store, get_store

log = logging.getLogger(__name__)
PROGRESS_INTERVAL = 0.5  # seconds between progress writes to the store


class TransientError(Exception):
    """Raised out of `run` so the queue retries the job later (only when it has retries left)."""


@dataclass
class Run:
    job: Job
    store: Store
    settings: Settings
    workdir: Path
    _last_report: float = field(default=0.0)

    def progress(self, fraction: float, detail: str = "") -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_report < PROGRESS_INTERVAL:
            return
        self._last_report = now
        self.store.update_job(self.job.id, progress=round(max(0.0, min(1.0, fraction)), 4), progress_detail=detail)

    # --- what each stage leaves behind ------------------------------------------------------
    @property
    def download_record(self) -> Path:
        return self.workdir / "download.json"

    @property
    def prepared_record(self) -> Path:
        return self.workdir / "prepared.json"

    @property
    def vectors_file(self) -> Path:
        return self.workdir / "embeddings.npy"

    def needs_local_audio(self) -> bool:
        return self.store.get_transcript(self.job.id) is None or self.store.get_audio_file(self.job.id) is None

    def load_download(self) -> Download | None:
        if not self.download_record.is_file():
            return None
        data = json.loads(self.download_record.read_text())
        media = Path(data["media_path"])
        if not media.is_file():
            return None
        thumb = Path(data["thumbnail_path"]) if data.get("thumbnail_path") else None
        return Download(media, thumb if thumb and thumb.is_file() else None, data["metadata"])

    def load_prepared(self) -> PreparedAudio | None:
        if not self.prepared_record.is_file():
            return None
        data = json.loads(self.prepared_record.read_text())
        wav, stored = Path(data["wav_path"]), Path(data["stored_path"])
        if not (wav.is_file() and stored.is_file()):
            return None
        thumb = Path(data["thumbnail_path"]) if data.get("thumbnail_path") else None
        return PreparedAudio(wav, stored, thumb if thumb and thumb.is_file() else None, data["duration"],
                             data["stored_sample_rate"])


def _download(run: Run) -> None:
    result = download(run.job.url, run.workdir, run.settings, run.progress)
    meta = result.metadata
    run.store.update_job(run.job.id, **{k: meta.get(k) for k in
                                        ("title", "uploader", "duration", "upload_date", "description",
                                         "thumbnail_url", "webpage_url")})
    run.download_record.write_text(json.dumps({
        "media_path": str(result.media_path),
        "thumbnail_path": str(result.thumbnail_path) if result.thumbnail_path else None,
        "metadata": meta,
    }))


def _extract_audio(run: Run) -> None:
    prepared = prepare(run.load_download(), run.workdir, run.progress, run.settings.max_duration_seconds)
    if not run.store.get_job(run.job.id).duration:
        run.store.update_job(run.job.id, duration=round(prepared.duration, 2))
    run.prepared_record.write_text(json.dumps({
        "wav_path": str(prepared.wav_path),
        "stored_path": str(prepared.stored_path),
        "thumbnail_path": str(prepared.thumbnail_path) if prepared.thumbnail_path else None,
        "duration": prepared.duration,
        "stored_sample_rate": prepared.stored_sample_rate,
    }))


def _upload(run: Run) -> None:
    prepared = run.load_prepared()
    s = run.settings
    audio_key = run.store.put_blob(s.supabase_audio_bucket, f"{run.job.id}/audio.mp3", prepared.stored_path)
    run.progress(0.8, "audio stored")
    thumb_key = None
    if prepared.thumbnail_path:
        thumb_key = run.store.put_blob(s.supabase_thumbnail_bucket, f"{run.job.id}/thumbnail.jpg",
                                       prepared.thumbnail_path)
    run.store.save_audio_file(AudioFile(
        job_id=run.job.id, audio_path=audio_key, thumbnail_path=thumb_key, duration=prepared.duration,
        size_bytes=prepared.stored_path.stat().st_size, sample_rate=prepared.stored_sample_rate,
    ))


def _transcribe(run: Run) -> None:
    captioned = _creator_captions(run)
    if captioned is not None:  # the creator's own words and times: no speech-to-text
        run.store.save_transcript(run.job.id, captioned)
        return
    prepared = run.load_prepared()
    transcriber = get_transcriber(run.settings)
    run.progress(0.0, f"loading {transcriber.name}")
    transcript = transcriber.transcribe(prepared.wav_path, prepared.duration, run.progress)
    run.store.save_transcript(run.job.id, transcript)


def _creator_captions(run: Run) -> Transcript | None:
    fetched = run.load_download()
    captions = fetched.metadata.get("captions") if fetched else None
    if not captions or not Path(captions["path"]).is_file():
        return None
    text = Path(captions["path"]).read_text(encoding="utf-8", errors="replace")
    try:
        return transcript_from(text, captions["format"], captions["language"])
    except Exception:  # noqa: BLE001 - a caption file we cannot read: the audio is transcribed instead
        log.warning("job %s: unreadable %s captions, transcribing the audio", run.job.id, captions["format"])
        return None


def _analyze(run: Run) -> None:
    job = run.store.get_job(run.job.id)
    analyzer = get_analyzer(run.settings, get_embedder(run.settings))
    analysis = analyzer.analyze(run.store.get_transcript(job.id), job.title, job.description)
    run.store.save_analysis(job.id, analysis)


def embed_transcript(transcript: Transcript, embedder: Embedder, progress: Progress | None = None) -> np.ndarray:
    """One vector per segment, in batches of VECTOR_BATCH (one hosted request each)."""
    texts = [s.text for s in transcript.segments]
    vectors = []
    for start in range(0, len(texts), VECTOR_BATCH):
        vectors.append(embedder.embed(texts[start:start + VECTOR_BATCH]))
        done = min(len(texts), start + VECTOR_BATCH)
        if progress:
            progress(done / len(texts), f"{done} of {len(texts)} segments")
    return np.vstack(vectors)


def _embed(run: Run) -> None:
    embedder = get_embedder(run.settings)
    np.save(run.vectors_file, embed_transcript(run.store.get_transcript(run.job.id), embedder, run.progress))
    (run.workdir / "embeddings.model").write_text(embedder.model)


def _store(run: Run) -> None:
    model = (run.workdir / "embeddings.model").read_text()
    run.store.save_embeddings(run.job.id, model, np.load(run.vectors_file))


def _is_done(run: Run, stage: Stage) -> bool:
    if stage == Stage.DOWNLOADING:
        return not run.needs_local_audio() or run.load_download() is not None
    if stage == Stage.EXTRACTING_AUDIO:
        return not run.needs_local_audio() or run.load_prepared() is not None
    if stage == Stage.UPLOADING:
        return run.store.get_audio_file(run.job.id) is not None
    if stage == Stage.TRANSCRIBING:
        return run.store.get_transcript(run.job.id) is not None
    if stage == Stage.ANALYZING:
        return run.store.get_analysis(run.job.id) is not None
    model = get_embedder(run.settings).model
    if stage == Stage.GENERATING_EMBEDDINGS:
        return run.store.has_embeddings(run.job.id, model) or (
            run.vectors_file.is_file() and (run.workdir / "embeddings.model").read_text() == model
        )
    return run.store.has_embeddings(run.job.id, model)


STAGES = {
    Stage.DOWNLOADING: _download,
    Stage.EXTRACTING_AUDIO: _extract_audio,
    Stage.UPLOADING: _upload,
    Stage.TRANSCRIBING: _transcribe,
    Stage.ANALYZING: _analyze,
    Stage.GENERATING_EMBEDDINGS: _embed,
    Stage.STORING: _store,
}


class JobTimedOut(Exception):
    """The job used up its time limit."""


class TimeLimit:
    """A job's time limit: JOB_TIMEOUT_SECONDS, plus the media's duration once it is known. At the limit
    the running stage is interrupted (JobTimedOut, raised in the main thread by SIGALRM); a stage stuck
    where Python cannot interrupt it is ended with its process a minute later, after `on_stuck` ran."""

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
        raise JobTimedOut(self.seconds)

    def _watch(self) -> None:
        while not self._done.is_set():
            self._changed.clear()
            wait = self._remaining() + self.GRACE
            if wait <= 0:
                self._on_stuck(self.seconds)
                os.kill(os.getpid(), signal.SIGKILL)
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


def run(job_id: str, settings: Settings | None = None) -> Job:
    """Take one job through every remaining stage (see `_run`); a program that gave a callback URL hears
    when it ends."""
    settings = settings or get_settings()
    job = _run(job_id, settings)
    webhooks.job_ended(job, settings)
    return job


def _run(job_id: str, settings: Settings) -> Job:
    """Take one job through every remaining stage. Returns the job as it ended.

    Problems with the video or its content, bugs and a used-up time limit fail the job with a readable
    message. Transient problems (network, rate limits, the library briefly unreachable) are retried
    when this runs from the queue with retries left (TransientError is raised for RQ); otherwise they
    fail the job too, saying that Retry resumes it.
    """
    store = get_store(service_role=True)
    job = store.get_job(job_id)
    if job is None:
        raise LookupError(f"No job {job_id} in the library.")
    run_ = Run(job=job, store=store, settings=settings, workdir=settings.work_dir(job_id))
    run_.workdir.mkdir(parents=True, exist_ok=True)
    stage = Stage.PENDING
    limit = TimeLimit(settings.job_timeout_seconds,
                      on_stuck=lambda seconds: store.fail_job(job_id, stage, _out_of_time(stage, seconds)))
    limit.allow_for(job.duration)
    try:
        for stage in STAGES:
            try:
                if _is_done(run_, stage):
                    continue
                store.enter_stage(job_id, stage)
                with meter() as usage:
                    try:
                        STAGES[stage](run_)
                    finally:  # what a hosted engine used is paid for even when the stage then fails
                        if usage:
                            store.add_usage(job_id, [u.model_copy(update={"stage": stage.value}) for u in usage])
                if stage in (Stage.DOWNLOADING, Stage.EXTRACTING_AUDIO):
                    limit.allow_for(store.get_job(job_id).duration)
            except (TransientMediaError, TransientEngineError, LibraryUnavailable) as exc:
                return _after_transient_failure(store, job_id, stage, str(exc), settings)
            except (MediaError, EngineError) as exc:
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
    store.enter_stage(job_id, Stage.COMPLETED)
    shutil.rmtree(run_.workdir, ignore_errors=True)
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
    if not lease.acquire():
        log.warning("job %s is being run by another worker", job_id)
        return "running elsewhere"
    try:
        return run(job_id).status.value
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
