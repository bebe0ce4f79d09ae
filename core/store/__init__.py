"""Where the library lives. One interface; the embedded SQLite + files store is the default."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from core.models import Analysis, AudioFile, Job, SearchFilters, Segment, Stage, Transcript, Usage

JOB_FIELDS = set(Job.model_fields)
VIDEO_VECTOR = -1  # segment_idx of the whole video's vector


def with_video_vector(vectors: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(segment_idx, vector) rows to store: one per segment, plus the video's (their normalised mean)."""
    from core.providers.embed import normalise_rows

    vectors = np.asarray(vectors, dtype=np.float32)
    return [*enumerate(vectors), (VIDEO_VECTOR, normalise_rows(vectors.mean(axis=0)))]


class DuplicateJob(Exception):
    def __init__(self, existing: Job):
        super().__init__(existing.id)
        self.existing = existing


class LibraryUnavailable(Exception):
    """The library's database cannot be reached just now; the same call may work later."""


class ReadOnlyLibrary(Exception):
    """This process may read the library but not change it (it holds no key that may write)."""


class Store(Protocol):
    def create_job(self, *, url: str, platform: str, extractor: str, video_id: str) -> Job:
        """Insert a pending job; raises DuplicateJob when (platform, video_id) is already there."""
    def get_job(self, job_id: str) -> Job | None: ...
    def find_job(self, platform: str, video_id: str) -> Job | None: ...
    def list_jobs(self, *, statuses: list[str] | None = None, platforms: list[str] | None = None) -> list[Job]: ...
    def update_job(self, job_id: str, **fields) -> None: ...
    def enter_stage(self, job_id: str, stage: Stage, detail: str = "") -> None: ...
    def fail_job(self, job_id: str, stage: Stage, error: str) -> None: ...
    def reset_job(self, job_id: str) -> None:
        """Forget every result of the job and make it pending again (for reprocessing)."""
    def delete_job(self, job_id: str) -> None: ...

    def put_blob(self, bucket: str, name: str, source: Path) -> str: ...
    def media_location(self, key: str) -> Path | str | None:
        """A local file, or a URL (signed for private buckets), for a stored media key."""

    def save_audio_file(self, audio: AudioFile) -> None: ...
    def get_audio_file(self, job_id: str) -> AudioFile | None: ...
    def save_transcript(self, job_id: str, transcript: Transcript) -> None: ...
    def get_transcript(self, job_id: str) -> Transcript | None: ...
    def get_segments(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Segment]: ...
    def save_analysis(self, job_id: str, analysis: Analysis) -> None: ...
    def get_analysis(self, job_id: str) -> Analysis | None: ...
    def save_embeddings(self, job_id: str, model: str, vectors: np.ndarray) -> None: ...
    def has_embeddings(self, job_id: str, model: str) -> bool: ...
    def jobs_missing_embeddings(self, model: str) -> list[str]: ...
    def add_usage(self, job_id: str, records: list[Usage]) -> None: ...
    def get_usage(self, job_id: str) -> list[Usage]: ...
    def costs(self) -> dict[str, float]: ...
    def search_segments(self, query: np.ndarray, terms: list[str], model: str, limit: int,
                        filters: SearchFilters) -> list[tuple[str, int, float, bool]]:
        """(job_id, segment index, cosine similarity, keyword match) of the best segments, best first."""


def get_store(*, service_role: bool = False) -> Store:
    """The library as configured: DATABASE_URL -> Postgres; SUPABASE_URL with keys -> Supabase's REST
    API; else the embedded SQLite store under DATA_DIR. Media go to Supabase Storage whenever
    SUPABASE_URL is set. `service_role`: never read with the anon key (the worker)."""
    from core.config import get_settings

    s = get_settings()
    secret = lambda value: value.get_secret_value() if value else None  # noqa: E731
    anon_key = None if service_role and s.supabase_service_role_key else secret(s.supabase_anon_key)
    return _open_store(secret(s.database_url), s.data_dir.resolve(), s.supabase_url,
                       secret(s.supabase_service_role_key), anon_key, s.supabase_audio_bucket,
                       s.supabase_thumbnail_bucket)


@lru_cache(maxsize=8)
def _open_store(database_url: str | None, data_dir: Path, supabase_url: str | None, service_key: str | None,
                anon_key: str | None, audio_bucket: str, thumbnail_bucket: str) -> Store:
    # One per place and process: opening checks the schema, which takes a lock.
    files = None
    if supabase_url and (service_key or anon_key):
        from core.store.files import SupabaseFiles

        files = SupabaseFiles(supabase_url, service_key or anon_key, audio_bucket, thumbnail_bucket,
                              can_write=bool(service_key))
    if database_url:
        from core.store.postgres import PostgresStore

        return PostgresStore(database_url, data_dir, files)
    if files is not None:
        from core.store.supabase import SupabaseStore

        return SupabaseStore(supabase_url, service_key, anon_key, files)
    from core.store.local import LocalStore

    return LocalStore(data_dir, files)
