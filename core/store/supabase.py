"""The library in a Supabase project reached with its keys only: rows through the REST API (PostgREST
RPC calls to the migrations' SQL functions), media in Supabase Storage. Reads use the anon key where it
suffices (the library is public to it); writes always use the service role key, which only the worker
and a trusted app hold. With the anon key alone the library is read-only."""

from __future__ import annotations

from typing import Any

from core.store.base import LibraryUnavailable, ReadOnlyLibrary
from core.store.functions import FunctionStore
from core.store.supabase_client import supabase_client

# The SQL functions the service role alone may call: those that change the library, and expired_audio
# and voice_samples (reads for the worker: audio to clean up, voice prints to match).
WRITES = frozenset({"create_job", "update_job", "enter_stage", "fail_job", "reset_job", "delete_job",
                    "save_audio_file", "save_transcript", "save_analysis", "add_embeddings", "add_usage",
                    "expired_audio", "mark_audio_removed", "save_collection", "save_translation",
                    "save_speakers", "save_voice_sample", "remove_voice_sample", "forget_voice",
                    "voice_samples", "add_library_usage"})
GATEWAY_ERRORS = frozenset({"502", "503", "504", "520", "522", "524"})
ATTEMPTS = 4


def _is_transient(exc: BaseException, write: bool) -> bool:
    """Whether trying again may help. A write is repeated only when it cannot have reached the
    database (the connection was never made); a read whenever the network or the gateway failed."""
    import httpx
    from postgrest.exceptions import APIError

    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return True
    if write:
        return False
    return isinstance(exc, httpx.TransportError) or (isinstance(exc, APIError) and str(exc.code) in GATEWAY_ERRORS)


class SupabaseStore(FunctionStore):
    def __init__(self, url: str, service_key: str | None, anon_key: str | None, files):
        if not (service_key or anon_key):
            raise ValueError("Supabase needs SUPABASE_SERVICE_ROLE_KEY (to add videos) or SUPABASE_ANON_KEY (to read)")
        self.url = url.rstrip("/")
        self.files = files
        self.writer = supabase_client(url, service_key) if service_key else None
        self.reader = self.writer
        if anon_key:
            anon = supabase_client(url, anon_key)
            # The anon key sees nothing of a library hidden from it (app_settings.library_public).
            if self.writer is None or self._call(anon, "library_is_public", {}, write=False):
                self.reader = anon

    @property
    def read_only(self) -> bool:
        return self.writer is None

    def _call_function(self, function: str, args: dict) -> Any:
        write = function in WRITES
        client = self.writer if write else self.reader
        if client is None:
            raise ReadOnlyLibrary("This library is read-only here: set SUPABASE_SERVICE_ROLE_KEY to add or change "
                                  "videos.")
        return self._call(client, function, args, write=write)

    def _call(self, client, function: str, args: dict, *, write: bool) -> Any:
        import httpx
        from postgrest.exceptions import APIError
        from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential_jitter

        @retry(retry=retry_if_exception(lambda exc: _is_transient(exc, write)), stop=stop_after_attempt(ATTEMPTS),
               wait=wait_exponential_jitter(initial=0.5, max=8), reraise=True)
        def send():
            return client.rpc(function, args).execute().data

        try:
            return send()
        except APIError as exc:
            if str(exc.code).startswith("5"):  # gateway errors (502/503...) and Postgres' resource classes 53-58
                raise LibraryUnavailable(
                    f"Supabase is not answering ({exc.code}: {exc.message}); try again shortly.") from exc
            if exc.code in ("42501", "401", "403") or "permission denied" in (exc.message or ""):
                raise ReadOnlyLibrary(f"Supabase refused {function}: {exc.message}. Check the keys.") from exc
            raise
        except httpx.TransportError as exc:
            raise LibraryUnavailable(f"Cannot reach Supabase at {self.url}: {type(exc).__name__}: {exc}") from exc
