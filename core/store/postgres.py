"""The library on Postgres with pgvector (a self-hosted server, or a Supabase project's database),
over the same migrations as Supabase (supabase/migrations). Media go to Supabase Storage when it is
configured, else to DATA_DIR/storage."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import numpy as np

from core.models import Analysis, AudioFile, Job, SearchFilters, Segment, Sentiment, Stage, Transcript, Usage
from core.store import JOB_FIELDS, DuplicateJob, with_video_vector
from core.store.files import LocalFiles, MediaFilesMixin
from core.store.hybrid import fuse

MIGRATIONS = Path(__file__).resolve().parent.parent.parent / "supabase" / "migrations"
POOL_SIZE = 4
# A plain Postgres lacks the roles a Supabase project has; the migrations' policies name them.
SUPABASE_ROLES = """
do $$ begin
    if not exists (select 1 from pg_roles where rolname = 'anon') then create role anon nologin; end if;
    if not exists (select 1 from pg_roles where rolname = 'authenticated') then create role authenticated nologin; end if;
    if not exists (select 1 from pg_roles where rolname = 'service_role') then
        create role service_role nologin bypassrls; end if;
end $$;
"""


def _vector(values) -> str:
    return "[" + ",".join(f"{float(v):.7g}" for v in values) + "]"


def _iso(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class PostgresStore(MediaFilesMixin):
    def __init__(self, database_url: str, data_dir: Path, files=None):
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self.files = files or LocalFiles(Path(data_dir) / "storage")
        # A few connections reused by every call of this process (TLS to a hosted database is slow to
        # set up); each is checked before use, so one dropped by the server is replaced, not failed on.
        self.pool = ConnectionPool(database_url, min_size=1, max_size=POOL_SIZE, open=True, timeout=30,
                                   check=ConnectionPool.check_connection, name="video-insight",
                                   kwargs={"row_factory": dict_row, "connect_timeout": 10})
        self._migrate()

    @contextmanager
    def _db(self):
        with self.pool.connection() as conn:
            yield conn  # commits on success, rolls back on error

    def _migrate(self) -> None:
        with self._db() as conn:
            conn.execute("select pg_advisory_xact_lock(727274)")  # one migrator at a time
            conn.execute("create table if not exists public.schema_migrations (version text primary key,"
                         " applied_at timestamptz not null default now())")
            done = {row["version"] for row in conn.execute("select version from public.schema_migrations")}
            # Versions that `supabase db push` applied are recorded by the Supabase CLI, by number.
            if conn.execute("select to_regclass('supabase_migrations.schema_migrations') as t").fetchone()["t"]:
                done |= {row["version"] for row in conn.execute("select version from supabase_migrations.schema_migrations")}
            pending = [m for m in sorted(MIGRATIONS.glob("*.sql"))
                       if m.stem not in done and m.stem.split("_", 1)[0] not in done]
            if pending:
                conn.execute(SUPABASE_ROLES)
            for migration in pending:
                conn.execute(migration.read_text())
                conn.execute("insert into public.schema_migrations (version) values (%s)", (migration.stem,))

    @staticmethod
    def _job(row: dict) -> Job:
        data = {k: row[k] for k in JOB_FIELDS if k in row}
        for key in ("created_at", "updated_at", "upload_date"):
            data[key] = _iso(row[key])
        return Job(**data)

    # --- jobs -----------------------------------------------------------------------------
    def create_job(self, *, url: str, platform: str, extractor: str, video_id: str) -> Job:
        import psycopg

        job_id = uuid.uuid4().hex[:12]
        try:
            with self._db() as conn:
                conn.execute(
                    "insert into jobs (id, url, platform, extractor, video_id, stage_times) values"
                    " (%s, %s, %s, %s, %s, jsonb_build_object('pending', to_char(now() at time zone 'utc',"
                    " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS+00:00')))", (job_id, url, platform, extractor, video_id))
        except psycopg.errors.UniqueViolation:
            existing = self.find_job(platform, video_id)
            if existing is None:
                raise
            raise DuplicateJob(existing) from None
        return self.get_job(job_id)

    def get_job(self, job_id: str) -> Job | None:
        with self._db() as conn:
            row = conn.execute("select * from jobs where id = %s", (job_id,)).fetchone()
        return self._job(row) if row else None

    def find_job(self, platform: str, video_id: str) -> Job | None:
        with self._db() as conn:
            row = conn.execute("select * from jobs where platform = %s and video_id = %s", (platform, video_id)).fetchone()
        return self._job(row) if row else None

    def list_jobs(self, *, statuses=None, platforms=None) -> list[Job]:
        with self._db() as conn:
            rows = conn.execute(
                "select * from jobs where (%(s)s::text[] is null or status = any(%(s)s))"
                " and (%(p)s::text[] is null or platform = any(%(p)s)) order by created_at desc, id desc",
                {"s": list(statuses) if statuses else None, "p": list(platforms) if platforms else None}).fetchall()
        return [self._job(row) for row in rows]

    def update_job(self, job_id: str, **fields) -> None:
        from psycopg.types.json import Jsonb

        unknown = set(fields) - JOB_FIELDS
        if unknown:
            raise ValueError(f"unknown job fields: {sorted(unknown)}")
        fields.pop("updated_at", None)  # the trigger sets it
        for key in ("status", "stage"):
            if isinstance(fields.get(key), Stage):
                fields[key] = fields[key].value
        if "stage_times" in fields:
            fields["stage_times"] = Jsonb(fields["stage_times"])
        if not fields:
            return
        assignments = ", ".join(f"{name} = %({name})s" for name in fields)
        with self._db() as conn:
            conn.execute(f"update jobs set {assignments} where id = %(job_id)s", fields | {"job_id": job_id})

    def enter_stage(self, job_id: str, stage: Stage, detail: str = "") -> None:
        with self._db() as conn:
            conn.execute(
                "update jobs set status = %(s)s, stage = %(s)s, progress = %(p)s, progress_detail = %(d)s,"
                " error = null, stage_times = stage_times || jsonb_build_object(%(s)s::text,"
                " to_char(now() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS+00:00')) where id = %(id)s",
                {"s": stage.value, "p": 1.0 if stage == Stage.COMPLETED else 0.0, "d": detail, "id": job_id})

    def fail_job(self, job_id: str, stage: Stage, error: str) -> None:
        with self._db() as conn:
            conn.execute(
                "update jobs set status = 'failed', stage = %s, error = %s, stage_times = stage_times ||"
                " jsonb_build_object('failed', to_char(now() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS+00:00'))"
                " where id = %s", (stage.value, error, job_id))

    def reset_job(self, job_id: str) -> None:
        with self._db() as conn:
            for table in ("embeddings", "analysis", "transcriptions", "audio_files", "usage"):
                conn.execute(f"delete from {table} where job_id = %s", (job_id,))
            conn.execute(
                "update jobs set status = 'pending', stage = 'pending', progress = 0, progress_detail = '',"
                " error = null, stage_times = jsonb_build_object('pending', to_char(now() at time zone 'utc',"
                " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS+00:00')) where id = %s", (job_id,))
        self.files.remove_job(job_id)

    def delete_job(self, job_id: str) -> None:
        with self._db() as conn:
            conn.execute("delete from jobs where id = %s", (job_id,))
        self.files.remove_job(job_id)

    def save_audio_file(self, audio: AudioFile) -> None:
        with self._db() as conn:
            conn.execute(
                "insert into audio_files (job_id, audio_path, thumbnail_path, duration, size_bytes, sample_rate)"
                " values (%s, %s, %s, %s, %s, %s) on conflict (job_id) do update set audio_path = excluded.audio_path,"
                " thumbnail_path = excluded.thumbnail_path, duration = excluded.duration,"
                " size_bytes = excluded.size_bytes, sample_rate = excluded.sample_rate",
                (audio.job_id, audio.audio_path, audio.thumbnail_path, audio.duration, audio.size_bytes,
                 audio.sample_rate))

    def get_audio_file(self, job_id: str) -> AudioFile | None:
        with self._db() as conn:
            row = conn.execute("select job_id, audio_path, thumbnail_path, duration, size_bytes, sample_rate"
                               " from audio_files where job_id = %s", (job_id,)).fetchone()
        return AudioFile(**row) if row else None

    # --- results --------------------------------------------------------------------------
    def save_transcript(self, job_id: str, transcript: Transcript) -> None:
        from psycopg.types.json import Jsonb

        with self._db() as conn:
            conn.execute("delete from transcriptions where job_id = %s", (job_id,))
            conn.execute("insert into transcriptions (job_id, text, language, engine) values (%s, %s, %s, %s)",
                         (job_id, transcript.text, transcript.language, transcript.engine))
            with conn.cursor() as cursor:
                cursor.executemany(
                    "insert into segments (job_id, idx, start_seconds, end_seconds, text, words)"
                    " values (%s, %s, %s, %s, %s, %s)",
                    [(job_id, i, s.start, s.end, s.text,
                      Jsonb([w.model_dump() for w in s.words]) if s.words else None)
                     for i, s in enumerate(transcript.segments)])

    @staticmethod
    def _segment(row: dict) -> Segment:
        return Segment(start=row["start_seconds"], end=row["end_seconds"], text=row["text"], words=row.get("words"))

    def get_transcript(self, job_id: str) -> Transcript | None:
        with self._db() as conn:
            row = conn.execute("select * from transcriptions where job_id = %s", (job_id,)).fetchone()
            if not row:
                return None
            segments = conn.execute("select start_seconds, end_seconds, text, words from segments"
                                    " where job_id = %s order by idx", (job_id,)).fetchall()
        return Transcript(text=row["text"], language=row["language"], engine=row["engine"],
                          segments=[self._segment(s) for s in segments])

    def get_segments(self, keys: list[tuple[str, int]]) -> dict[tuple[str, int], Segment]:
        if not keys:
            return {}
        with self._db() as conn:
            rows = conn.execute(
                "select s.job_id, s.idx, s.start_seconds, s.end_seconds, s.text, s.words from segments s"
                " join unnest(%s::text[], %s::int[]) as k(job_id, idx) on k.job_id = s.job_id and k.idx = s.idx",
                ([k[0] for k in keys], [k[1] for k in keys])).fetchall()
        return {(r["job_id"], r["idx"]): self._segment(r) for r in rows}

    def save_analysis(self, job_id: str, analysis: Analysis) -> None:
        from psycopg.types.json import Jsonb

        with self._db() as conn:
            conn.execute(
                "insert into analysis (job_id, summary, topics, sentiment_label, sentiment_score, segment_sentiment,"
                " category, language, engine) values (%s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict (job_id) do"
                " update set summary = excluded.summary, topics = excluded.topics,"
                " sentiment_label = excluded.sentiment_label, sentiment_score = excluded.sentiment_score,"
                " segment_sentiment = excluded.segment_sentiment, category = excluded.category,"
                " language = excluded.language, engine = excluded.engine",
                (job_id, analysis.summary, Jsonb(analysis.topics), analysis.sentiment.label, analysis.sentiment.score,
                 Jsonb(analysis.segment_sentiment), analysis.category, analysis.language, analysis.engine))

    def get_analysis(self, job_id: str) -> Analysis | None:
        with self._db() as conn:
            row = conn.execute("select * from analysis where job_id = %s", (job_id,)).fetchone()
        if not row:
            return None
        return Analysis(summary=row["summary"], topics=row["topics"],
                        sentiment=Sentiment(label=row["sentiment_label"], score=row["sentiment_score"]),
                        segment_sentiment=row["segment_sentiment"], category=row["category"],
                        language=row["language"], engine=row["engine"])

    def save_embeddings(self, job_id: str, model: str, vectors: np.ndarray) -> None:
        """One vector per segment, plus the whole video's (their normalised mean) at index -1."""
        rows = [(job_id, idx, model, len(v), _vector(v)) for idx, v in with_video_vector(vectors)]
        with self._db() as conn:
            conn.execute("delete from embeddings where job_id = %s and model = %s", (job_id, model))
            with conn.cursor() as cursor:
                cursor.executemany("insert into embeddings (job_id, segment_idx, model, dim, embedding)"
                                   " values (%s, %s, %s, %s, %s::vector)", rows)

    def has_embeddings(self, job_id: str, model: str) -> bool:
        with self._db() as conn:
            return conn.execute("select 1 from embeddings where job_id = %s and model = %s limit 1",
                                (job_id, model)).fetchone() is not None

    def jobs_missing_embeddings(self, model: str) -> list[str]:
        with self._db() as conn:
            rows = conn.execute(
                "select id from jobs j where status = 'completed' and not exists"
                " (select 1 from embeddings e where e.job_id = j.id and e.model = %s)", (model,)).fetchall()
        return [row["id"] for row in rows]

    # --- usage and cost -------------------------------------------------------------------
    def add_usage(self, job_id: str, records: list[Usage]) -> None:
        with self._db() as conn, conn.cursor() as cursor:
            cursor.executemany(
                "insert into usage (job_id, stage, engine, model, audio_seconds, input_tokens, output_tokens,"
                " cost_usd) values (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(job_id, u.stage, u.engine, u.model, u.audio_seconds, u.input_tokens, u.output_tokens, u.cost_usd)
                 for u in records])

    def get_usage(self, job_id: str) -> list[Usage]:
        with self._db() as conn:
            rows = conn.execute("select stage, engine, model, audio_seconds, input_tokens, output_tokens, cost_usd"
                                " from usage where job_id = %s order by created_at", (job_id,)).fetchall()
        return [Usage(**row) for row in rows]

    def costs(self) -> dict[str, float]:
        with self._db() as conn:
            rows = conn.execute("select job_id, sum(cost_usd) as usd from usage where cost_usd is not null"
                                " group by job_id").fetchall()
        return {row["job_id"]: row["usd"] for row in rows}

    # --- search ---------------------------------------------------------------------------
    def keyword_segments(self, terms: list[str], allowed: set[str] | None, limit: int) -> list[tuple[str, int, str]]:
        if not terms:
            return []
        query = " | ".join("'" + term.replace("'", "''") + "'" for term in terms)
        with self._db() as conn:
            rows = conn.execute(
                "select s.job_id, s.idx, s.text from segments s join jobs j on j.id = s.job_id"
                " where j.status = 'completed' and s.fts @@ to_tsquery('english', %s)"
                " order by ts_rank(s.fts, to_tsquery('english', %s)) desc limit %s",
                (query, query, limit * 4)).fetchall()
        return [(r["job_id"], r["idx"], r["text"]) for r in rows
                if allowed is None or r["job_id"] in allowed][:limit]

    def _searchable_jobs(self, filters: SearchFilters) -> set[str]:
        with self._db() as conn:
            rows = conn.execute(
                "select j.id from jobs j left join analysis a on a.job_id = j.id where j.status = 'completed'"
                " and (%(p)s::text[] is null or j.platform = any(%(p)s))"
                " and (%(c)s::text[] is null or a.category = any(%(c)s))"
                " and (%(s)s::text[] is null or a.sentiment_label = any(%(s)s))"
                " and (%(f)s::date is null or coalesce(j.upload_date, j.created_at::date) >= %(f)s::date)"
                " and (%(t)s::date is null or coalesce(j.upload_date, j.created_at::date) <= %(t)s::date)",
                {"p": filters.platforms or None, "c": filters.categories or None, "s": filters.sentiments or None,
                 "f": filters.date_from, "t": filters.date_to}).fetchall()
        return {row["id"] for row in rows}

    def search_segments(self, query: np.ndarray, terms: list[str], model: str, limit: int,
                        filters: SearchFilters) -> list[tuple[str, int, float, bool]]:
        depth = max(limit * 5, 50)
        vector = _vector(query)
        with self._db() as conn:
            rows = conn.execute(
                "select job_id, segment_idx, similarity from match_segments(%s::vector, %s, %s, %s, %s, %s, %s, %s)",
                (vector, depth, model, filters.platforms or None, filters.categories or None,
                 filters.sentiments or None, filters.date_from, filters.date_to)).fetchall()
        by_meaning = [((r["job_id"], r["segment_idx"]), float(r["similarity"])) for r in rows]
        allowed = self._searchable_jobs(filters) if terms else set()

        def similarity_of(keys):
            with self._db() as conn:
                found = conn.execute(
                    "select e.job_id, e.segment_idx, 1 - (e.embedding <=> %s::vector) as similarity"
                    " from embeddings e join unnest(%s::text[], %s::int[]) as k(job_id, idx)"
                    " on k.job_id = e.job_id and k.idx = e.segment_idx where e.model = %s",
                    (vector, [k[0] for k in keys], [k[1] for k in keys], model)).fetchall()
            return {(r["job_id"], r["segment_idx"]): float(r["similarity"]) for r in found}

        return fuse(by_meaning, self.keyword_segments(terms, allowed, depth), terms, similarity_of, limit)
