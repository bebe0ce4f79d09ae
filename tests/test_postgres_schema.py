"""The Supabase/Postgres schema, applied to a real Postgres: tables, constraints, cascades, triggers,
match_segments and Row Level Security as the anon and service roles. Each test runs on Postgres 18 with pgvector 0.8
(iterative index scans, as hosted Supabase has) and on Postgres 16 with pgvector 0.6 (the search functions' other
paths)."""

import numpy as np
import psycopg
import pytest

from core.models import Stage
from tests.conftest import ROOT, supabase_database


@pytest.fixture(scope="module", params=["postgres_server", "older_postgres_server"])
def server(request):
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module")
def database(server):
    return supabase_database(server)


@pytest.fixture
def db(database):
    with psycopg.connect(database) as conn:
        yield conn
        conn.rollback()


def add_job(conn, job_id, *, platform="youtube", video_id=None, status="completed", category="food",
            sentiment="positive", upload_date="2026-05-01", vectors=()):
    conn.execute("insert into jobs (id, url, platform, extractor, video_id, status, upload_date)"
                 " values (%s, %s, %s, 'X', %s, %s, %s)",
                 (job_id, f"https://x/{job_id}", platform, video_id or job_id, status, upload_date))
    conn.execute("insert into transcriptions (job_id, text, engine) values (%s, 'words', 'test')", (job_id,))
    conn.execute("insert into analysis (job_id, summary, sentiment_label, sentiment_score, category, engine)"
                 " values (%s, 's', %s, 0.5, %s, 'test')", (job_id, sentiment, category))
    for idx, vector in enumerate(vectors):
        conn.execute("insert into segments (job_id, idx, start_seconds, end_seconds, text) "
                     "values (%s, %s, %s, %s, 't')",
                     (job_id, idx, idx * 5.0, idx * 5.0 + 4))
        conn.execute("insert into embeddings (job_id, segment_idx, model, dim, embedding) values (%s, %s, 'm', %s, %s)",
                     (job_id, idx, len(vector), "[" + ",".join(f"{v:.6f}" for v in vector) + "]"))


def unit(seed: int, dim: int = 384) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(dim)
    return vector / np.linalg.norm(vector)


def test_tables_exist(db):
    names = {r[0] for r in db.execute("select tablename from pg_tables where schemaname = 'public'")}
    assert {"jobs", "audio_files", "transcriptions", "segments", "analysis", "embeddings", "usage", "collections",
            "translations", "translation_segments"} <= names


def test_one_job_per_video(db):
    add_job(db, "a", video_id="same")
    with pytest.raises(psycopg.errors.UniqueViolation):
        add_job(db, "b", video_id="same")


def test_every_status_the_step_registry_declares_can_be_stored(db):
    # Every Stage (one per step of core.pipeline.registry): a new step needs no schema change.
    for number, stage in enumerate(Stage):
        db.execute("insert into jobs (id, url, platform, extractor, video_id, status) values"
                   " (%s, 'u', 'p', 'e', %s, %s)", (f"s{number}", f"v{number}", stage.value))
    assert db.execute("select count(*) from jobs where id like 's%%'").fetchone()[0] == len(Stage)


def test_delete_cascades(db):
    add_job(db, "c", vectors=[unit(1)])
    db.execute("insert into usage (job_id, stage, engine, model) values ('c', 'analyzing', 'openai', 'gpt-4.1-mini')")
    db.execute("delete from jobs where id = 'c'")
    for table in ("transcriptions", "segments", "analysis", "embeddings", "usage"):
        assert db.execute(f"select count(*) from {table} where job_id = 'c'").fetchone()[0] == 0


def test_updated_at_moves(db):
    add_job(db, "d")
    db.commit()  # now() is the transaction's start: commit so the update runs later
    before = db.execute("select updated_at from jobs where id = 'd'").fetchone()[0]
    db.execute("update jobs set title = 'New' where id = 'd'")
    after = db.execute("select updated_at from jobs where id = 'd'").fetchone()[0]
    db.execute("delete from jobs where id = 'd'")
    db.commit()
    assert after > before


def test_embedding_dimension_must_match(db):
    add_job(db, "e")
    with pytest.raises(psycopg.errors.CheckViolation):
        db.execute("insert into embeddings (job_id, segment_idx, model, dim, embedding) "
                   "values ('e', 0, 'm', 3, '[1,2]')")


def search(db, query, count=5, **filters):
    args = {"platforms": None, "categories": None, "sentiments": None, "date_from": None, "date_to": None} | filters
    rows = db.execute(
        "select job_id, segment_idx, similarity from match_segments(%s::vector, %s, 'm', %s, %s, %s, %s, %s)",
        ("[" + ",".join(f"{v:.6f}" for v in query) + "]", count, args["platforms"], args["categories"],
         args["sentiments"], args["date_from"], args["date_to"])).fetchall()
    return rows


def test_match_segments_ranks_and_filters(db):
    add_job(db, "f1", vectors=[unit(10), unit(11)], platform="youtube", category="food", upload_date="2026-01-01")
    add_job(db, "f2", vectors=[unit(20), unit(21)], platform="vimeo", category="sports", sentiment="negative",
            upload_date="2026-06-01")
    add_job(db, "f3", vectors=[unit(30)], status="failed")
    query = unit(21) + 0.3 * unit(10)
    rows = search(db, query / np.linalg.norm(query))
    assert (rows[0][0], rows[0][1]) == ("f2", 1)
    assert (rows[1][0], rows[1][1]) == ("f1", 0)
    assert rows[0][2] > rows[1][2] > rows[2][2]
    assert all(job != "f3" for job, _, _ in rows)  # unfinished jobs are not searchable
    assert {r[0] for r in search(db, query, platforms=["youtube"])} == {"f1"}
    assert {r[0] for r in search(db, query, categories=["sports"])} == {"f2"}
    assert {r[0] for r in search(db, query, sentiments=["positive"])} == {"f1"}
    assert {r[0] for r in search(db, query, date_from="2026-03-01")} == {"f2"}
    assert len(search(db, query, count=1)) == 1


def test_a_filter_keeping_many_segments_walks_past_the_others_or_measures_every_kept_one(db):
    """Over 10,000 kept segments, match_segments walks the nearest past the filter (sized by the share of videos
    it keeps), and measures every kept segment when the walk brings too few: either way, the exact nearest."""
    add_job(db, "wide", platform="vimeo")  # one video of 20, but 11,000 segments near (0, 1, 0)
    for number in range(19):  # 50 segments each near (1, 0, 0)
        add_job(db, f"narrow{number}")
    db.execute("insert into segments (job_id, idx, start_seconds, end_seconds, text)"
               " select job_id, n, n, n + 1, 't' from (select id as job_id, case when id = 'wide' then 11000"
               " else 50 end as count from jobs where id = 'wide' or id like 'narrow%') j,"
               " generate_series(0, j.count - 1) n")
    db.execute("insert into embeddings (job_id, segment_idx, model, dim, embedding)"
               " select job_id, idx, 'm', 3, case when job_id = 'wide'"
               "  then format('[%s,1,%s]', idx / 11000.0, (idx % 89) / 890.0)"
               "  else format('[1,%s,%s]', (idx % 7) / 70.0, idx / 500.0) end::vector from segments"
               " where job_id = 'wide' or job_id like 'narrow%'")
    for query in ([0.0, 1.0, 0.0], [1.0, 0.0, 0.0]):  # the walk finds them; the walk meets none of them
        text = "[" + ",".join(map(str, query)) + "]"
        found = db.execute("select job_id, segment_idx from match_segments(%s::vector, 5, 'm', array['vimeo'])",
                           (text,)).fetchall()
        exact = db.execute("select job_id, segment_idx from embeddings where job_id = 'wide'"
                           " order by embedding::vector(3) <=> %s::vector(3), segment_idx limit 5", (text,)).fetchall()
        assert {tuple(row) for row in found} == {tuple(row) for row in exact}, query


def test_match_segments_can_use_the_hnsw_index(db):
    db.execute("set local enable_seqscan = off")  # a near-empty table: otherwise read whole, index or not
    db.execute("set local enable_bitmapscan = off")
    plan = "\n".join(r[0] for r in db.execute(
        "explain select job_id from embeddings where dim = 384 and model = 'm'"
        " order by embedding::vector(384) <=> %s::vector(384) limit 10",
        ("[" + ",".join("0.05" for _ in range(384)) + "]",)).fetchall())
    assert "embeddings_hnsw_384" in plan
    # a new library's graph is the denser one (more of the exact nearest at a million segments)
    for index in ("embeddings_hnsw_384", "embeddings_hnsw_1536"):
        [definition] = db.execute("select indexdef from pg_indexes where indexname = %s", (index,)).fetchone()
        assert "m='24'" in definition and "ef_construction='128'" in definition, definition


def test_keyword_search_leaves_the_words_common_where_it_searches_to_meaning(db):
    """A word held by more than 1,000 of the segments searched (by the planner's statistics, and the share of the
    videos the filters keep) is not ranked: at a million segments ranking each holder cost most of the search. A
    search within a few videos still ranks every word."""
    for number in range(10):
        add_job(db, f"k{number}")
    db.execute("insert into segments (job_id, idx, start_seconds, end_seconds, text)"
               " select 'k0', n, n, n + 1, case when n % 500 = 0 then 'zanzibar market' else 'the market opens' end"
               " from generate_series(0, 1999) as n")
    db.execute("analyze segments")
    assert db.execute("select rare_words('public.segments', array['markets', 'zanzibar', 'opening'])"
                      ).fetchone()[0] == ["zanzibar"]
    zanzibar = [0, 500, 1000, 1500]
    for scope in ("", ", platforms => array['youtube']"):  # every video
        hits = db.execute(f"select keyword_segments(array['market', 'zanzibar'], 50{scope})").fetchone()[0]
        assert sorted(hit["idx"] for hit in hits) == zanzibar
    within = db.execute("select keyword_segments(array['market', 'zanzibar'], 50, job_ids => array['k0'])"
                        ).fetchone()[0]  # a tenth of the videos: "market" is held by ~200 of the segments searched
    assert len(within) == 50 and sorted(hit["idx"] for hit in within[:4]) == zanzibar
    as_role(db, "anon")  # pg_stats shows it nothing (Row Level Security): the statistics are read for it
    assert db.execute("select count(*) from pg_stats where tablename = 'segments'").fetchone()[0] == 0
    assert db.execute("select rare_words('public.segments', array['market', 'zanzibar'])").fetchone()[0] == ["zanzibar"]
    db.execute("reset role")
    db.execute("update app_settings set value = 'false' where key = 'library_public'")
    as_role(db, "anon")  # a hidden library tells it nothing, not even which words are common
    assert db.execute("select rare_words('public.segments', array['market', 'zanzibar'])"
                      ).fetchone()[0] == ["market", "zanzibar"]
    assert db.execute("select * from text_statistics('public.jobs')").fetchone() == (None, None, None)


def as_role(db, role):
    db.execute(f"set local role {role}")


def test_anon_reads_but_never_writes(db):
    add_job(db, "g", vectors=[unit(40)])
    as_role(db, "anon")
    assert db.execute("select count(*) from jobs where id = 'g'").fetchone()[0] == 1
    assert search(db, unit(40))[0][0] == "g"
    assert db.execute("select public.get_job('g') ->> 'id'").fetchone()[0] == "g"
    for write in ("update jobs set title = 'hacked' where id = 'g'", "delete from jobs where id = 'g'",
                  "insert into jobs (id, url, platform, extractor, video_id) values ('h', 'u', 'p', 'e', 'v')",
                  "select public.delete_job('g')", "select public.update_job('g', '{\"title\": \"hacked\"}')",
                  "select public.create_job('h', 'u', 'p', 'e', 'v')"):
        db.execute("savepoint attempt")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            db.execute(write)
        db.execute("rollback to savepoint attempt")
    assert db.execute("select title from jobs where id = 'g'").fetchone()[0] is None


def test_service_role_writes(db):
    as_role(db, "service_role")
    add_job(db, "i", vectors=[unit(50)])
    assert db.execute("select count(*) from embeddings where job_id = 'i'").fetchone()[0] == 1


def test_library_can_be_hidden_from_anon(db):
    add_job(db, "j", vectors=[unit(60)])
    db.execute("update app_settings set value = 'false' where key = 'library_public'")
    as_role(db, "anon")
    assert db.execute("select count(*) from jobs").fetchone()[0] == 0
    assert search(db, unit(60)) == []
    assert db.execute("select count(*) from app_settings").fetchone()[0] == 0  # settings stay private


def test_store_skips_migrations_the_supabase_cli_applied(postgres_server, tmp_path):
    from core.store.postgres import PostgresStore

    postgres_url = supabase_database(postgres_server)
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("create schema supabase_migrations;"
                     " create table supabase_migrations.schema_migrations (version text primary key)")
        for migration in sorted((ROOT / "supabase" / "migrations").glob("*.sql")):
            conn.execute("insert into supabase_migrations.schema_migrations values (%s)",
                         (migration.stem.split("_", 1)[0],))
    store = PostgresStore(postgres_url, tmp_path)  # would fail on "already exists" if it re-applied them
    assert store.list_jobs() == []
    store.close()
    PostgresStore(postgres_url, tmp_path).close()  # and opening again applies nothing twice


def test_store_survives_dropped_connections(postgres_url, tmp_path):
    from core.store.postgres import PostgresStore

    def cut_every_connection():  # as a server restart or idle timeout would
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(pid) from pg_stat_activity"
                          " where datname = current_database() and pid <> pg_backend_pid()")

    store = PostgresStore(postgres_url, tmp_path)
    with store._db() as one, store._db() as another:  # the pool holds several connections, each used moments ago
        one.execute("select 1")
        another.execute("select 1")
    cut_every_connection()
    assert store.list_jobs() == []  # made again on a connection that answers, however many were cut
    cut_every_connection()
    job = store.create_job(url="https://example.com/a", platform="youtube", extractor="Youtube", video_id="a1")
    assert [j.id for j in store.list_jobs()] == [job.id]  # written once
    store.close()
