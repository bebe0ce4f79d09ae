"""Links becoming jobs, and what people do to jobs: submit, retry, reprocess, cancel, delete. Used by the façade
(core.api) and by the runner of a single job (core.pipeline.run_now); nothing here runs the pipeline."""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
from dataclasses import dataclass, replace
from functools import lru_cache

from core.config import MAX_PLAYLIST_HARD_CAP, Settings, get_settings
from core.jobs import queue, webhooks
from core.jobs.queue import JobBusy, QueueStatus, QueueUnavailable, enqueue
from core.models import (
    WORK_STAGES,
    Collection,
    Job,
    Stage,
)
from core.sources.addresses import AddressPolicy, prepare_guarded_processes
from core.sources.media import Listing, list_videos
from core.sources.platforms import InvalidURL, Source, check_callback_url, detect, warm_up
from core.store import DuplicateJob, Store, get_store


@dataclass
class Submission:
    job: Job
    #: False when the video was already in the library and the existing job was returned.
    created: bool
    #: The playlist, channel or page it came with, when the link was one.
    collection: Collection | None = None


def split_urls(text: str) -> list[str]:
    """One link per line (several on a line when separated by spaces or commas); blanks dropped."""
    urls: list[str] = []
    for line in (text or "").splitlines():
        pieces = [p for p in re.split(r"[\s,]+", line) if p]
        if len(pieces) > 1 and all("://" in p for p in pieces):
            urls.extend(pieces)
        elif line.strip():
            urls.append(line.strip())
    return urls


@lru_cache(maxsize=1)
def prepare_link_checks() -> threading.Thread:
    """Compile link detection's patterns on a thread of their own, once per process, and start the process that
    lists a collection's videos (core.sources.addresses.prepare_guarded_processes): a server calls this as it starts, so
    that the first link pasted is checked at once rather than after ~1 s."""
    prepare_guarded_processes()
    thread = threading.Thread(target=warm_up, name="warm-up-link-patterns", daemon=True)
    thread.start()
    return thread


def validate_all(urls: list[str], settings: Settings | None = None) -> list[Source]:
    """Detect every URL first, so one bad link stores and enqueues nothing; all problems in one message."""
    settings = settings or get_settings()
    if not urls:
        raise InvalidURL("Please paste at least one video link.")
    if len(urls) > settings.max_links_per_submission:
        raise InvalidURL(f"That is {len(urls):,} links; at most {settings.max_links_per_submission:,} can be sent at "
                         "once (MAX_LINKS_PER_SUBMISSION). Send them in smaller batches.")
    policy = AddressPolicy.from_settings(settings)
    sources, problems = [], []
    for url in urls:
        try:
            sources.append(detect(url, policy=policy))
        except InvalidURL as exc:
            problems.append(str(exc) if len(urls) == 1 else f"{url[:100]}: {exc}")
    if problems:
        raise InvalidURL("\n".join(problems))
    return sources


class CorrectionsKept(Exception):
    """Processing a video again would throw away corrections a person made to its transcript."""


def _keep_corrections(store: Store, job: Job) -> None:
    kept = [edit for edit in store.get_edits(job.id) if edit.standing]
    if kept:
        raise CorrectionsKept(f"“{job.title or job.video_id}” has {len(kept)} correction{'s' if len(kept) != 1 else ''}"
                              " to its transcript, which processing it again would throw away: nothing was changed. "
                              "Reprocess it with the corrections discarded (`reprocess --discard-corrections`, or "
                              "confirm on the page) if that is what you want.")


def create_or_existing(store: Store, source: Source, force: bool, settings: Settings) -> Submission:
    try:
        job = store.create_job(url=source.url, platform=source.platform, extractor=source.extractor,
                               video_id=source.video_id)
        return Submission(job, created=True)
    except DuplicateJob as duplicate:
        job = duplicate.existing
        if not force:
            return Submission(job, created=False)
        _keep_corrections(store, job)
        _stop_running(job, settings)
        _forget_results(store, job.id, settings)
        return Submission(store.get_job(job.id), created=True)


def _stop_running(job: Job, settings: Settings) -> None:
    """Make sure no run of the job is going on (stopping the one that is) before its results change."""
    if job.is_final:
        return
    try:
        queue.stop(job.id, settings)
    except QueueUnavailable:
        if job.status != Stage.PENDING:  # it may be running on a worker we cannot ask
            raise JobBusy(f"Job {job.id} is {job.status.label.lower()} and the job queue cannot be reached, so it "
                          "cannot be stopped first. Try again once Redis answers.") from None


def _forget_results(store: Store, job_id: str, settings: Settings) -> None:
    """Back to pending with nothing kept, not even the downloaded files, so everything is redone."""
    store.reset_job(job_id)
    shutil.rmtree(settings.work_dir(job_id), ignore_errors=True)


def submit(url: str, *, force: bool = False, callback_url: str | None = None, limit: int | None = None,
           settings: Settings | None = None) -> Submission:
    """Validate, dedupe and enqueue one link. With force, an existing video is processed again. (For a
    collection link, the first of its videos; submit_many gives them all.)"""
    submissions = submit_many([url], force=force, callback_url=callback_url, limit=limit, settings=settings)
    if not submissions:
        raise InvalidURL("That playlist or page lists no video that can be processed.")
    return submissions[0]


def default_playlist_items() -> int:
    return get_settings().max_playlist_items


def collection_summaries(submissions: list[Submission]) -> list[str]:
    """'Garden talks: 3 videos, 1 new' for each collection among the submissions."""
    counts: dict[str, list] = {}
    for submission in submissions:
        if submission.collection:
            entry = counts.setdefault(submission.collection.id, [submission.collection, 0, 0])
            entry[1] += 1
            entry[2] += submission.created
    return [f"{collection.title or collection.url}: {total} video{'s' if total != 1 else ''}, {new} new"
            for collection, total, new in counts.values()]


def submit_many(urls: list[str], *, force: bool = False, callback_url: str | None = None, limit: int | None = None,
                settings: Settings | None = None) -> list[Submission]:
    """Validate every link, then create (or find) and enqueue each. A playlist, channel or multi-video page
    becomes a collection of up to `limit` videos (MAX_PLAYLIST_ITEMS by default, at most
    MAX_PLAYLIST_HARD_CAP), each validated and deduped like a pasted link. `callback_url` hears when each ends."""
    settings = settings or get_settings()
    sources = validate_all(urls, settings)
    if callback_url is not None:
        callback_url = check_callback_url(callback_url, AddressPolicy.from_settings(settings))
    most = max(1, min(limit or settings.max_playlist_items, MAX_PLAYLIST_HARD_CAP))
    submissions = []
    for source in sources:
        listing = list_videos(source.url, settings, most) if source.kind != "video" else None
        if listing is None:
            submissions.append(_enqueue_source(source, force, callback_url, settings))
        else:
            submissions += _enqueue_collection(source, listing, force, callback_url, settings)
    return submissions


def _enqueue_collection(source: Source, listing: Listing, force: bool, callback_url: str | None,
                        settings: Settings) -> list[Submission]:
    return enqueue_listed(listing.urls, save_source_collection(source, listing), callback_url, settings, force)


def save_source_collection(source: Source, listing: Listing) -> Collection:
    """The collection of a playlist, channel, feed or multi-video page (created, or the one already there)."""
    if source.kind == "page" or not listing.source_id:  # an unknown site: the page's address names it
        source_id = hashlib.sha256(source.url.encode()).hexdigest()[:16]
    else:
        source_id = listing.source_id
    return get_store().save_collection(url=source.url, platform=source.platform, source_id=source_id,
                                       title=listing.title)


def enqueue_listed(urls: list[str], collection: Collection | None, callback_url: str | None, settings: Settings,
                   force: bool = False) -> list[Submission]:
    """The videos a collection lists, each checked and deduped like a pasted link, into the collection."""
    policy = AddressPolicy.from_settings(settings)
    submissions = []
    for url in urls:
        try:
            entry = detect(url, policy=policy)
        except InvalidURL:
            continue  # an entry the app would refuse pasted: left out, as it would be
        if entry.kind == "collection":
            continue  # a playlist inside a channel: its own link adds it
        submissions.append(_enqueue_source(replace(entry, kind="video"), force, callback_url, settings, collection))
    return submissions


def _enqueue_source(source: Source, force: bool, callback_url: str | None, settings: Settings,
                    collection: Collection | None = None) -> Submission:
    store = get_store()
    submission = create_or_existing(store, source, force, settings)
    submission.collection = collection
    if callback_url:
        store.update_job(submission.job.id, callback_url=callback_url)
    if collection and submission.job.collection_id is None:
        store.update_job(submission.job.id, collection_id=collection.id)
    if submission.created:
        _start(store, submission.job.id, settings)
    submission.job = store.get_job(submission.job.id)
    if callback_url and submission.job.is_final:  # already done: say so now rather than never
        webhooks.job_ended(submission.job, settings)
    return submission


def _start(store: Store, job_id: str, settings: Settings) -> None:
    try:
        enqueue(job_id, settings)
    except QueueUnavailable as exc:
        store.fail_job(job_id, Stage.PENDING, str(exc))
        raise


def retry(job_id: str, settings: Settings | None = None) -> Job:
    """Queue a failed job again; it resumes from the stage that failed. A job that is waiting or running
    is put back on the queue only if the queue has lost it."""
    settings = settings or get_settings()
    store = get_store()
    job = require_job(store, job_id)
    if job.status == Stage.COMPLETED:
        return job
    if job.status != Stage.FAILED:
        enqueue(job_id, settings)  # does nothing while the job is queued or running
        return store.get_job(job_id)
    store.update_job(job_id, status=Stage.PENDING, error=None, progress=0.0, progress_detail="")
    _start(store, job_id, settings)
    return store.get_job(job_id)


def retry_failed(settings: Settings | None = None) -> int:
    """Queue every failed job again; returns how many."""
    failed = get_store().list_jobs(statuses=[Stage.FAILED.value])
    for job in failed:
        retry(job.id, settings)
    return len(failed)


def reprocess(job_id: str, settings: Settings | None = None, discard_corrections: bool = False) -> Job:
    """Forget a video's results and run the whole pipeline again (stopping the run going on, if any). A transcript a
    person corrected is kept (CorrectionsKept) unless `discard_corrections`."""
    settings = settings or get_settings()
    store = get_store()
    job = require_job(store, job_id)
    if not discard_corrections:
        _keep_corrections(store, job)
    _stop_running(job, settings)
    _forget_results(store, job_id, settings)
    _start(store, job_id, settings)
    return store.get_job(job_id)


def delete(job_id: str, settings: Settings | None = None) -> None:
    """Remove a job and everything stored for it (stopping its run first, if one is going on)."""
    settings = settings or get_settings()
    store = get_store()
    _stop_running(require_job(store, job_id), settings)
    store.delete_job(job_id)
    shutil.rmtree(settings.work_dir(job_id), ignore_errors=True)


def cancel(job_id: str, settings: Settings | None = None) -> Job:
    """Stop a waiting or running job. It ends failed with "Cancelled", keeping what its finished stages
    made, and Retry resumes it from there."""
    settings = settings or get_settings()
    store = get_store()
    job = require_job(store, job_id)
    if job.is_final:
        return job
    _stop_running(job, settings)
    job = store.get_job(job_id)
    if job.is_final:  # it finished while being stopped
        return job
    if job.stage in WORK_STAGES:
        message = f"Cancelled while {job.stage.label.lower()}. Retry resumes from there."
    else:
        message = "Cancelled before it started. Retry starts it."
    store.fail_job(job_id, job.stage, message)
    job = store.get_job(job_id)
    webhooks.job_ended(job, settings)
    return job


def queue_status(settings: Settings | None = None) -> QueueStatus:
    """How many workers serve the queue and how many jobs wait in it."""
    return queue.status(settings)


def require_job(store: Store, job_id: str) -> Job:
    job = store.get_job(job_id)
    if job is None:
        raise LookupError(f"No job {job_id} in the library.")
    return job
