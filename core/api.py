"""What the pages and the CLI call. Nothing here knows about Streamlit."""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from core import exports, queue, webhooks
from core.access import exposure_warning
from core.addresses import AddressPolicy, prepare_guarded_processes
from core.config import MAX_PLAYLIST_HARD_CAP, Settings, get_settings
from core.exports import FORMATS as EXPORT_FORMATS
from core.media import Listing, list_videos
from core.models import (
    WORK_STAGES,
    Analysis,
    AnalysisView,
    AudioFile,
    Collection,
    Job,
    JobDetails,
    JobView,
    SearchFilters,
    SearchHit,
    Segment,
    Stage,
    SubmittedJob,
    Transcript,
    TranscriptView,
    Translation,
    TranslationView,
)
from core.pipeline import TransientError, run
from core.platforms import InvalidURL, Source, check_callback_url, detect, link_at, warm_up
from core.providers.embed import get_embedder
from core.queue import JobBusy, QueueStatus, QueueUnavailable, enqueue
from core.stages.context import text_to_analyse
from core.stages.indexing import embed_transcript
from core.store import DuplicateJob, LibraryUnavailable, ReadOnlyLibrary, Store, get_store
from core.store.files import media_type
from core.text import content_words, stem

# Re-exported: the pages and the CLI use these from here.
__all__ = ["EXPORT_FORMATS", "MAX_PLAYLIST_HARD_CAP", "InvalidURL", "JobBusy", "LibraryUnavailable",
           "QueueUnavailable", "ReadOnlyLibrary", "exposure_warning", "media_type"]


def library_problem() -> str | None:
    """Why the library cannot be read just now (an unreachable database, a refused key), or None."""
    try:
        get_store().get_job("")
    except (LibraryUnavailable, ReadOnlyLibrary) as exc:
        return str(exc)
    return None


def read_only() -> bool:
    """Whether this process may only read the library (a Supabase project with just its anon key)."""
    return get_store().read_only


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
    lists a collection's videos (core.addresses.prepare_guarded_processes): a server calls this as it starts, so
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


def _create_or_existing(store: Store, source: Source, force: bool, settings: Settings) -> Submission:
    try:
        job = store.create_job(url=source.url, platform=source.platform, extractor=source.extractor,
                               video_id=source.video_id)
        return Submission(job, created=True)
    except DuplicateJob as duplicate:
        job = duplicate.existing
        if not force:
            return Submission(job, created=False)
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
    if source.kind == "page" or not listing.source_id:  # an unknown site: the page's address names it
        source_id = hashlib.sha256(source.url.encode()).hexdigest()[:16]
    else:
        source_id = listing.source_id
    collection = get_store().save_collection(url=source.url, platform=source.platform, source_id=source_id,
                                             title=listing.title)
    policy = AddressPolicy.from_settings(settings)
    submissions = []
    for url in listing.urls:
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
    submission = _create_or_existing(store, source, force, settings)
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
    job = _require(store, job_id)
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


def reprocess(job_id: str, settings: Settings | None = None) -> Job:
    """Forget a video's results and run the whole pipeline again (stopping the run going on, if any)."""
    settings = settings or get_settings()
    store = get_store()
    _stop_running(_require(store, job_id), settings)
    _forget_results(store, job_id, settings)
    _start(store, job_id, settings)
    return store.get_job(job_id)


def delete(job_id: str, settings: Settings | None = None) -> None:
    """Remove a job and everything stored for it (stopping its run first, if one is going on)."""
    settings = settings or get_settings()
    store = get_store()
    _stop_running(_require(store, job_id), settings)
    store.delete_job(job_id)
    shutil.rmtree(settings.work_dir(job_id), ignore_errors=True)


def cancel(job_id: str, settings: Settings | None = None) -> Job:
    """Stop a waiting or running job. It ends failed with "Cancelled", keeping what its finished stages
    made, and Retry resumes it from there."""
    settings = settings or get_settings()
    store = get_store()
    job = _require(store, job_id)
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


def run_now(url: str, *, force: bool = False, settings: Settings | None = None) -> Job:
    """Validate and run the whole pipeline in this process (no queue)."""
    prepare_guarded_processes()  # loads the downloader meanwhile
    settings = settings or get_settings()
    store = get_store()
    submission = _create_or_existing(store, validate_all([url], settings)[0], force, settings)
    if not submission.created and submission.job.status == Stage.COMPLETED:
        return submission.job
    try:
        return run(submission.job.id, settings)
    except TransientError:
        return store.get_job(submission.job.id)  # failed, with the reason; `retry` resumes it


def wait(job_ids: list[str], *, poll: float = 1.0, timeout: float | None = None) -> list[Job]:
    """Block until every job is completed or failed (or the timeout passes)."""
    store = get_store()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        jobs = [_require(store, job_id) for job_id in job_ids]
        if all(job.is_final for job in jobs) or (deadline and time.monotonic() > deadline):
            return jobs
        time.sleep(poll)


def _require(store: Store, job_id: str) -> Job:
    job = store.get_job(job_id)
    if job is None:
        raise LookupError(f"No job {job_id} in the library.")
    return job


def get_job(job_id: str) -> Job | None:
    return get_store().get_job(job_id)


def get_jobs(job_ids: list[str]) -> list[Job]:
    """The jobs of these ids that exist, in the order given, in one read."""
    found = get_store().get_jobs(job_ids)
    return [found[job_id] for job_id in job_ids if job_id in found]


def filter_jobs(jobs: list[Job], statuses: list[str] | None = None, platforms: list[str] | None = None,
                collections: list[str] | None = None) -> list[Job]:
    return [job for job in jobs if (not statuses or job.status.value in statuses)
            and (not platforms or job.platform in platforms)
            and (not collections or job.collection_id in collections)]


def list_jobs(statuses: list[str] | None = None, platforms: list[str] | None = None,
              collections: list[str] | None = None) -> list[Job]:
    return get_store().list_jobs(statuses=statuses, platforms=platforms, collections=collections)


def collections(ids: list[str] | None = None) -> list[Collection]:
    """The library's collections (playlists, channels, multi-video pages), newest first."""
    return get_store().get_collections(ids)


def collections_of(jobs: list[Job]) -> dict[str, Collection]:
    """The collections these jobs came with, by id, in one read."""
    ids = sorted({job.collection_id for job in jobs if job.collection_id})
    return {c.id: c for c in get_store().get_collections(ids)} if ids else {}


def submitted_views(submissions: list[Submission], jobs: list[Job] | None = None) -> list[SubmittedJob]:
    """What a submission answers programs: each job (as `jobs` has it now, when given), with whether it was
    created and the collection it belongs to."""
    jobs = jobs or [s.job for s in submissions]
    found = collections_of(jobs)
    return [SubmittedJob.of(job, s.created, found.get(job.collection_id))
            for job, s in zip(jobs, submissions, strict=True)]


def job_views(jobs: list[Job]) -> list[JobView]:
    """Jobs as programs see them (CLI --json, HTTP API), each with its collection."""
    found = collections_of(jobs)
    return [JobView.of(job, found.get(job.collection_id)) for job in jobs]


def transcript(job_id: str) -> Transcript | None:
    return get_store().get_transcript(job_id)


def analysis(job_id: str) -> Analysis | None:
    return get_store().get_analysis(job_id)


def media_file(key: str | None) -> Path | str | None:
    """The file or URL behind a stored media key (audio or thumbnail), if it is there."""
    return get_store().media_location(key) if key else None


def job_details(job_id: str) -> JobDetails | None:
    """A job with its transcript, analysis and hosted cost (the CLI's `show --json`, the HTTP API)."""
    store = get_store()
    job = store.get_job(job_id)
    if job is None:
        return None
    found_transcript = store.get_transcript(job_id)
    found_translation = store.get_translation(job_id)
    found_analysis = store.get_analysis(job_id)
    return JobDetails.of(
        job, collections_of([job]).get(job.collection_id), cost=_cost_summary(store.get_usage(job_id)),
        transcript=TranscriptView.model_validate(found_transcript.model_dump()) if found_transcript else None,
        translation=TranslationView.model_validate(found_translation.model_dump()) if found_translation else None,
        analysis=AnalysisView.model_validate(found_analysis.model_dump()) if found_analysis else None)


def _cost_summary(usage) -> dict | None:
    """Audio minutes, tokens and estimated dollars per stage; None when only local engines ran."""
    if not usage:
        return None
    stages: dict[str, dict] = {}
    for u in usage:
        entry = stages.setdefault(u.stage, {"models": [], "audio_minutes": 0.0, "input_tokens": 0,
                                            "output_tokens": 0, "usd": 0.0})
        if u.model not in entry["models"]:
            entry["models"].append(u.model)
        entry["audio_minutes"] = round(entry["audio_minutes"] + u.audio_seconds / 60, 3)
        entry["input_tokens"] += u.input_tokens
        entry["output_tokens"] += u.output_tokens
        entry["usd"] = round(entry["usd"] + (u.cost_usd or 0.0), 6)
    known = [u.cost_usd for u in usage if u.cost_usd is not None]
    return {"usd": round(sum(known), 6) if known else None, "stages": stages}


def costs() -> dict[str, float]:
    """Estimated hosted-engine cost per job id (jobs that used none are absent)."""
    return get_store().costs()


def search(query: str, limit: int = 10, filters: SearchFilters | None = None,
           settings: Settings | None = None) -> list[SearchHit]:
    """Transcript moments across the library, ranked by meaning and by the query's own words."""
    settings = settings or get_settings()
    query = (query or "").strip()
    if not query:
        return []
    store = get_store()
    embedder = get_embedder(settings)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="query-vector") as pool:
        # The store narrows the library and starts the keyword half while the query is being embedded.
        vector = pool.submit(lambda: embedder.embed([query])[0])
        found = store.search_segments(vector, content_words(query), embedder.model, limit, filters or SearchFilters())
    segments = store.get_segments([(job_id, idx) for job_id, idx, _, _ in found])
    ids = [job_id for job_id, _, _, _ in found]
    jobs, audio_files, analyses = store.get_jobs(ids), store.get_audio_files(ids), store.get_analyses(ids)
    query_stems = {stem(word) for word in content_words(query)}
    hits = []
    for job_id, idx, similarity, keyword_match in found:
        segment, job, audio = segments.get((job_id, idx)), jobs.get(job_id), audio_files.get(job_id)
        if segment is None or job is None:
            continue
        spoken = analyses[job_id].language if job_id in analyses else None
        hits.append(SearchHit(
            job_id=job_id, video_id=job.video_id, title=job.title, platform=job.platform,
            url=link_at(job.webpage_url or job.url, job.platform, segment.start),
            thumbnail_path=audio.thumbnail_path if audio else None, segment_index=idx, start=segment.start,
            end=segment.end, text=segment.text, translation=segment.translation,
            language=_matched_language(segment, spoken, query_stems, keyword_match),
            score=round(similarity, 4), keyword_match=keyword_match,
        ))
    return hits


def _matched_language(segment: Segment, spoken: str | None, query_stems: set[str], keyword_match: bool) -> str | None:
    """A translated video is searched by the meaning of its translation, and by the words of both."""
    if segment.translation is None:
        return spoken
    if keyword_match and query_stems & {stem(word) for word in content_words(segment.text)}:
        return spoken
    return segment.translation_language


def reindex(settings: Settings | None = None, progress=None) -> int:
    """Embed again every completed video that has no vectors from the current embedding model, with the
    pipeline's own embedding and storing steps."""
    settings = settings or get_settings()
    store = get_store(service_role=True)
    embedder = get_embedder(settings)
    missing = store.jobs_missing_embeddings(embedder.model)
    for number, job_id in enumerate(missing, 1):
        found = text_to_analyse(store, job_id)
        if found and found.segments:
            store.save_embeddings(job_id, embedder.model, embed_transcript(found, embedder))
        if progress:
            progress(number, len(missing))
    return len(missing)


def moment_link(job: Job, seconds: float) -> str:
    """The original video at a moment, where its site supports a start time."""
    return link_at(job.webpage_url or job.url, job.platform, seconds)


def audio_file(job_id: str) -> AudioFile | None:
    return get_store().get_audio_file(job_id)


def status_counts(jobs: list[Job]) -> dict[str, int]:
    return dict(Counter(job.status.value for job in jobs))


def platforms_in_library(jobs: list[Job] | None = None) -> list[str]:
    """The platforms of these jobs (of the whole library when not given)."""
    return sorted({job.platform for job in (get_store().list_jobs() if jobs is None else jobs)})


def thumbnails(jobs: list[Job]) -> dict[str, Path | str]:
    """Where each job's thumbnail is (a file or a URL), for those that have one, in one read."""
    store = get_store()
    found = store.get_audio_files([job.id for job in jobs])
    located = {job_id: store.media_location(audio.thumbnail_path) for job_id, audio in found.items()
               if audio.thumbnail_path}
    return {job_id: where for job_id, where in located.items() if where}


def translation(job_id: str) -> Translation | None:
    return get_store().get_translation(job_id)


def transcript_files(job: Job, found: Transcript, analysis: Analysis | None,
                     translated: Translation | None = None) -> dict[str, tuple[str, str, str]]:
    """Every export of a transcript (or of its translation) already in hand: format -> (file name, content,
    MIME type)."""
    language = translated.language if translated else None
    return {fmt: (exports.filename(job, fmt, language), exports.export(job, found, analysis, fmt, translated), mime)
            for fmt, mime in EXPORT_FORMATS.items()}


def export(job_id: str, fmt: str, *, translated: bool = False) -> tuple[str, str]:
    """(file name, content) of a job's transcript, or of its translation, in one of EXPORT_FORMATS."""
    store = get_store()
    job = _require(store, job_id)
    found = store.get_transcript(job_id)
    if found is None:
        raise LookupError(f"Job {job_id} has no transcript yet ({job.status.value}).")
    translation_found = store.get_translation(job_id) if translated else None
    if translated and translation_found is None:
        raise LookupError(f"Job {job_id} has no translation: it was spoken in TRANSLATE_TO's language, or "
                          "translation was off when it ran.")
    language = translation_found.language if translation_found else None
    return (exports.filename(job, fmt, language),
            exports.export(job, found, store.get_analysis(job_id), fmt, translation_found))


def analysed_videos() -> list[tuple[Job, Analysis]]:
    """Every completed video with its analysis (for core.insights.library_overview)."""
    store = get_store()
    jobs = store.list_jobs(statuses=[Stage.COMPLETED.value])
    analyses = store.get_analyses([job.id for job in jobs])
    return [(job, analyses[job.id]) for job in jobs if job.id in analyses]
