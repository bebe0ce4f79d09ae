"""One `supabase` client per project, key and process (its kept-alive connections
serve the REST API and Storage alike)."""

from __future__ import annotations

from core.processes import per_process


def api_key_headers(key: str) -> dict[str, str]:
    """How every Supabase API is told which key, and so which role, calls (for clients beside `supabase`'s)."""
    return {"apikey": key, "Authorization": f"Bearer {key}"}


@per_process(maxsize=8)
def supabase_client(url: str, key: str):
    """`supabase.create_client(url, key)` with one kept-alive HTTP client, and no retries of its own:
    core.store.supabase decides what may be tried again (never a write that may have reached the database)."""
    import httpx  # loaded only when a Supabase project is configured
    from supabase import ClientOptions, create_client

    http = httpx.Client(timeout=httpx.Timeout(60, connect=10),
                        limits=httpx.Limits(max_connections=8, max_keepalive_connections=4))
    options = ClientOptions(httpx_client=http, postgrest_client_retry=False,
                            auto_refresh_token=False, persist_session=False)  # API keys, no user sessions
    return create_client(url.rstrip("/"), key, options)
