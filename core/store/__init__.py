"""Where the library lives. One interface (core.store.base.Store); the embedded SQLite + files store is the
default, Postgres (DATABASE_URL) and a Supabase project (SUPABASE_URL + keys) the shared ones."""

from __future__ import annotations

from pathlib import Path

from core.config import get_settings
from core.processes import per_process
from core.store.base import (
    DuplicateJob,
    LibraryUnavailable,
    MediaStoreRefused,
    MediaStoreUnavailable,
    ReadOnlyLibrary,
    Store,
)
from core.store.files import S3Files, SupabaseFiles
from core.store.local import LocalStore
from core.store.postgres import PostgresStore
from core.store.supabase import SupabaseStore

__all__ = ["DuplicateJob", "LibraryUnavailable", "MediaStoreRefused", "MediaStoreUnavailable", "ReadOnlyLibrary",
           "Store", "get_store"]


def get_store(*, service_role: bool = False) -> Store:
    """The library as configured: DATABASE_URL -> Postgres; SUPABASE_URL with keys -> Supabase's REST
    API; else the embedded SQLite store under DATA_DIR. Media go to MEDIA_STORAGE_URL's bucket when it is set
    (but for Supabase's REST path, which keeps its own Storage), else to Supabase Storage whenever SUPABASE_URL is
    set, else under DATA_DIR. `service_role`: never read with the anon key (the worker)."""
    s = get_settings()
    secret = lambda value: value.get_secret_value() if value else None  # noqa: E731
    anon_key = None if service_role and s.supabase_service_role_key else secret(s.supabase_anon_key)
    return _open_store(secret(s.database_url), s.data_dir.resolve(), s.supabase_url,
                       secret(s.supabase_service_role_key), anon_key, s.supabase_audio_bucket,
                       s.supabase_thumbnail_bucket, s.media_storage_url, s.s3_endpoint_url)


@per_process(maxsize=8)
def _open_store(database_url: str | None, data_dir: Path, supabase_url: str | None, service_key: str | None,
                anon_key: str | None, audio_bucket: str, thumbnail_bucket: str, media_storage_url: str,
                s3_endpoint_url: str) -> Store:
    # One per place and process (a forked job opens its own): opening checks the schema, which takes a lock.
    supabase = bool(supabase_url and (service_key or anon_key))
    files = None
    if media_storage_url and (database_url or not supabase):
        files = S3Files(media_storage_url, s3_endpoint_url, (audio_bucket, thumbnail_bucket))
    elif supabase:
        files = SupabaseFiles(supabase_url, service_key or anon_key, audio_bucket, thumbnail_bucket,
                              can_write=bool(service_key))
    if database_url:
        return PostgresStore(database_url, data_dir, files)
    if supabase:
        return SupabaseStore(supabase_url, service_key, anon_key, files)
    return LocalStore(data_dir, files)
