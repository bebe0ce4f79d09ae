"""Reading the library's jobs: one, some, all, as programs see them, and waiting for them to end."""

from __future__ import annotations

import time

from core.jobs.submitting import Submission, require_job
from core.models import (
    Collection,
    Job,
    JobView,
    SubmittedJob,
)
from core.store import LibraryUnavailable, ReadOnlyLibrary, get_store


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


def wait(job_ids: list[str], *, poll: float = 1.0, timeout: float | None = None) -> list[Job]:
    """Block until every job is completed or failed (or the timeout passes)."""
    store = get_store()
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        jobs = [require_job(store, job_id) for job_id in job_ids]
        if all(job.is_final for job in jobs) or (deadline and time.monotonic() > deadline):
            return jobs
        time.sleep(poll)


def get_job(job_id: str) -> Job | None:
    return get_store().get_job(job_id)


def get_jobs(job_ids: list[str]) -> list[Job]:
    """The jobs of these ids that exist, in the order given, in one read."""
    found = get_store().get_jobs(job_ids)
    return [found[job_id] for job_id in job_ids if job_id in found]


MOST_ROWS = 2**31 - 1


def list_jobs(statuses: list[str] | None = None, platforms: list[str] | None = None,
              collections: list[str] | None = None, limit: int | None = None, offset: int = 0) -> list[Job]:
    """The library's jobs, newest first, filtered (None: any); `limit` of them from the `offset`-th (None: all)."""
    # Databases count rows in 32 or 64 bits: beyond that a page lies past any library's end anyway.
    limit, offset = (None if limit is None else min(limit, MOST_ROWS)), min(offset, MOST_ROWS)
    return get_store().list_jobs(statuses=statuses, platforms=platforms, collections=collections, limit=limit,
                                 offset=offset)


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


def status_counts(platforms: list[str] | None = None, collections: list[str] | None = None) -> dict[str, int]:
    """How many of the library's jobs (of these platforms and collections) are in each status: counted by the store,
    which reads no job."""
    return get_store().job_counts(platforms=platforms, collections=collections)


def platforms_in_library() -> list[str]:
    """The platforms the library's videos come from (asked of the store, which reads no job)."""
    return get_store().platforms()
