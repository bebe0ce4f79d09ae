"""The library on Postgres with pgvector (a self-hosted server, or a Supabase project's database),
over the same migrations as Supabase (supabase/migrations). Media go to Supabase Storage when it is
configured, else to DATA_DIR/storage."""

from __future__ import annotations

import json
import weakref
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from time import monotonic
from typing import Any

from core.store.base import LibraryUnavailable
from core.store.files import LocalFiles
from core.store.functions import FunctionStore

MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "supabase" / "migrations"
POOL_SIZE = 4
# A pooled connection that rested longer than this is checked (a round trip) before it is used again.
CHECK_AFTER_IDLE_SECONDS = 10.0
# A plain Postgres lacks the roles a Supabase project has; the migrations' policies name them.
SUPABASE_ROLES = """
do $$ begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin; end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then
        create role authenticated nologin;
    end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin bypassrls; end if;
end $$;
"""


class PostgresStore(FunctionStore):
    read_only = False

    def __init__(self, database_url: str, data_dir: Path, files=None):
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.files = files or LocalFiles(Path(data_dir) / "storage")
        self._last_used: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        # A few connections reused by every call of this process (TLS to a hosted database is slow to
        # set up). One dropped by the server is replaced, not failed on: checked before use after a rest, and
        # a call that finds its connection cut is made again on another.
        self.pool = ConnectionPool(database_url, min_size=1, max_size=POOL_SIZE, open=True, timeout=30,
                                   check=self._check_after_rest, name="video-insight",
                                   kwargs={"row_factory": dict_row, "connect_timeout": 10})
        self._migrate()

    def close(self) -> None:
        """Close the pooled connections (a store made for a while, as a script or a test makes one)."""
        self.pool.close()

    def _check_after_rest(self, conn) -> None:
        """Checking every connection before each use costs a round trip per call, which doubles the time of each
        call to a hosted database; one used moments ago is taken as it is (if it was cut since, the call is made
        again, see _one_row)."""
        from psycopg_pool import ConnectionPool

        if monotonic() - self._last_used.get(conn, float("-inf")) > CHECK_AFTER_IDLE_SECONDS:
            ConnectionPool.check_connection(conn)

    @contextmanager
    def _db(self):
        """A pooled connection, committing on success and rolling back on error. A database that cannot be
        reached, or that drops the connection (a restart, a failover), is LibraryUnavailable: the job is tried
        again by the queue and resumes, rather than failing as a bug."""
        from psycopg import OperationalError
        from psycopg_pool import PoolTimeout

        try:
            with self.pool.connection() as conn:
                yield conn
                self._last_used[conn] = monotonic()
        except (OperationalError, PoolTimeout) as exc:
            raise LibraryUnavailable(f"The library's database cannot be reached: {type(exc).__name__}: "
                                     f"{str(exc).strip()[:300]}") from exc

    def _migrate(self) -> None:
        with self._db() as conn:
            conn.execute("select pg_advisory_xact_lock(727274)")  # one migrator at a time
            conn.execute("create table if not exists public.schema_migrations (version text primary key,"
                         " applied_at timestamptz not null default now())")
            done = {row["version"] for row in conn.execute("select version from public.schema_migrations")}
            # Versions that `supabase db push` applied are recorded by the Supabase CLI, by number.
            if conn.execute("select to_regclass('supabase_migrations.schema_migrations') as t").fetchone()["t"]:
                applied = conn.execute("select version from supabase_migrations.schema_migrations")
                done |= {row["version"] for row in applied}
            pending = [m for m in sorted(MIGRATIONS.glob("*.sql"))
                       if m.stem not in done and m.stem.split("_", 1)[0] not in done]
            if pending:
                conn.execute(SUPABASE_ROLES)
            for migration in pending:
                conn.execute(migration.read_text())
                conn.execute("insert into public.schema_migrations (version) values (%s)", (migration.stem,))

    @lru_cache(maxsize=64)  # noqa: B019 - one store per process, kept for its whole life
    def _call_sql(self, function: str):
        """The statement that calls public.<function> with its arguments taken from one JSON object,
        as Supabase's REST API does (json_to_record), so both ways read arguments alike."""
        from psycopg import sql

        row = self._one_row(
            "select p.proretset as returns_set, p.prorettype = 'void'::regtype as returns_void,"
            " coalesce(p.proargnames, '{}') as names,"
            " array(select format_type(t, null) from unnest(p.proargtypes::oid[]) with ordinality u(t, n)"
            "       order by n) as types"
            " from pg_proc p where p.proname = %s and p.pronamespace = 'public'::regnamespace",
            (function,))
        if row is None:
            raise LookupError(f"the database has no function public.{function}: are the migrations applied?")
        names = row["names"][:len(row["types"])]
        columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t))
                                     for n, t in zip(names, row["types"], strict=True))
        call = sql.SQL("public.{}({})").format(sql.Identifier(function), sql.SQL(", ").join(
            sql.SQL("{} => _.{}").format(sql.Identifier(n), sql.Identifier(n)) for n in names))
        source = (sql.SQL(" from json_to_record(%(args)s::json) as _({})").format(columns) if names
                  else sql.SQL(" from (select) _"))
        if row["returns_set"]:
            return sql.SQL("select coalesce(jsonb_agg(to_jsonb(r)), '[]') as result{}, lateral {} r").format(
                source, call)
        if row["returns_void"]:
            return sql.SQL("select {}::text as result{}").format(call, source)
        return sql.SQL("select to_jsonb({}) as result{}").format(call, source)

    def _call_function(self, function: str, args: dict) -> Any:
        row = self._one_row(self._call_sql(function), {"args": json.dumps(args)})
        return None if row is None else row["result"]

    def _one_row(self, statement, values):
        """The first row `statement` answers, in a transaction of its own."""
        from psycopg import OperationalError

        for last_try in (False, True):
            try:
                with self._db() as conn:
                    try:
                        return conn.execute(statement, values).fetchone()
                    except OperationalError:
                        if conn.broken and not last_try:
                            raise _ConnectionCut from None
                        raise
            except _ConnectionCut:
                # The server cut the connection (a restart, a failover, an idle timeout) before the statement
                # ended: its transaction never committed, so it is run again, on a connection that answers (a
                # restart cuts them all: those resting in the pool are checked first).
                self.pool.check()
        raise AssertionError("unreachable: the last try raises or returns")


class _ConnectionCut(Exception):
    pass
