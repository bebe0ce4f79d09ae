"""One behaviour on every store at a size that matters: the same library of 400 videos and 10,000 sentences on the
embedded store (measuring every vector, and through its approximate index), on Postgres + pgvector (its HNSW index)
and on a Supabase project over that Postgres, searched with and without filters, each answer held to the exact
ranking computed here.

The sentences' vectors are synthetic, 384 numbers like the bundled model's: each video is about one of 40 subjects
and its sentences lie around that subject's direction, so the nearest sentences to a query are decided by fine
differences, as with real embeddings."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import psycopg
import pytest

from core.models import SearchFilters
from core.store.files import SupabaseFiles
from core.store.local import LocalStore
from core.store.postgres import PostgresStore
from core.store.supabase import SupabaseStore
from testkit.fake_supabase import FakeSupabase, make_key, new_database, supabase_baseline
from testkit.library import add_video
from tests.conftest import wait_for

VIDEOS, SENTENCES, DIM, SUBJECTS = 400, 25, 384, 40
MODEL = "synthetic-384"
PLATFORMS = ["youtube"] * 30 + ["tiktok"] * 10  # of every 40 videos; and a few on vimeo and dailymotion, below
CATEGORIES = ["education", "science", "technology", "news", "travel"]


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def _library():
    rng = np.random.default_rng(2026)
    subjects = _unit(rng.standard_normal((SUBJECTS, DIM)))
    videos = []
    for n in range(VIDEOS):
        subject = n % SUBJECTS
        vectors = _unit(subjects[subject] + rng.standard_normal((SENTENCES, DIM)) / np.sqrt(DIM) * 1.1)
        platform = "vimeo" if n % 20 == 3 else "dailymotion" if n in (7, 207, 311) else PLATFORMS[n % 40]
        category = "politics" if n in (12, 252) else CATEGORIES[n % len(CATEGORIES)]
        sentences = [f"Talk {n} sentence {i} on subject {subject}." for i in range(SENTENCES)]
        if platform == "dailymotion":  # longer, so it ranks below the others on the words alone
            sentences[SENTENCES - 1] = (f"The street market of talk {n} sells spices, fruit, fish, bread, cheese and "
                                        "flowers every single morning of the week.")
        elif n % 4:
            sentences[SENTENCES - 1] = f"The street market of talk {n} sells spices."  # a word of 300 videos
        videos.append(dict(video_id=f"v{n:010d}", title=f"talk {n}", sentences=sentences, platform=platform,
                           category=category, sentiment=("positive", "neutral", "negative")[n % 3],
                           upload_date=f"2026-{1 + n % 12:02d}-{1 + n % 28:02d}", vectors=vectors))
    queries = _unit(subjects[rng.integers(0, SUBJECTS, 12)] + rng.standard_normal((12, DIM)) / np.sqrt(DIM) * 1.1)
    return videos, queries


@pytest.fixture(scope="module")
def library(tmp_path_factory, postgres_server):
    """The same library on the three stores; the ids of its videos are the same everywhere by video_id."""
    videos, queries = _library()
    embedder = SimpleNamespace(model=MODEL)
    sqlite = LocalStore(tmp_path_factory.mktemp("sqlite"))
    with pytest.MonkeyPatch.context() as patch:  # the same library, searched through the approximate index
        patch.setenv("SEARCH_INDEX_MIN_SEGMENTS", "1000")
        indexed = LocalStore(tmp_path_factory.mktemp("sqlite-indexed"))
    database = new_database(postgres_server)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(supabase_baseline())  # a Supabase project's database; the store applies the migrations
    postgres = PostgresStore(database, tmp_path_factory.mktemp("pg-media"))
    for store in (sqlite, indexed, postgres):
        for video in videos:
            add_video(store, embedder, **video)
    wait_for(lambda: indexed.search_index_coverage(MODEL) == (VIDEOS * SENTENCES,) * 2, what="the search index")
    project = FakeSupabase(database, tmp_path_factory.mktemp("supabase-storage"))
    key = make_key("service_role")
    supabase = SupabaseStore(project.url, key, None, SupabaseFiles(project.url, key, "temp-audio", "thumbnails",
                                                                    can_write=True))
    yield SimpleNamespace(videos=videos, queries=queries,
                          stores={"sqlite": sqlite, "sqlite-indexed": indexed, "postgres": postgres,
                                  "supabase": supabase})
    project.close()
    postgres.close()


def exact_top(library, store, query: np.ndarray, limit: int, keep=lambda video: True) -> list[tuple[str, int]]:
    """The `limit` nearest sentences among the kept videos, by cosine similarity, computed here."""
    ids = {job.video_id: job.id for job in store.list_jobs()}
    keys, rows = [], []
    for video in library.videos:
        if keep(video):
            keys += [(ids[video["video_id"]], i) for i in range(SENTENCES)]
            rows.append(video["vectors"])
    similarity = np.vstack(rows) @ query
    return [keys[i] for i in np.argsort(-similarity)[:limit]]


def found(store, query: np.ndarray, limit: int = 10, terms=(), **filters) -> list[tuple[str, int]]:
    return [(job_id, idx) for job_id, idx, _, _ in
            store.search_segments(query, list(terms), MODEL, limit, SearchFilters(**filters))]


STORES = ["sqlite", "sqlite-indexed", "postgres", "supabase"]


@pytest.mark.parametrize("name", STORES)
def test_unfiltered_results_are_the_exact_nearest(library, name):
    store = library.stores[name]
    shared = [len(set(found(store, q)) & set(exact_top(library, store, q, 10))) for q in library.queries]
    assert min(shared) >= 8 and sum(shared) / len(shared) >= 9.5, shared


@pytest.mark.parametrize("name", STORES)
@pytest.mark.parametrize("filters, keep", [
    ({"categories": ["politics"]}, lambda v: v["category"] == "politics"),  # 2 videos of 400
    ({"platforms": ["dailymotion"]}, lambda v: v["platform"] == "dailymotion"),  # 3 videos
    ({"platforms": ["vimeo"]}, lambda v: v["platform"] == "vimeo"),  # 20 videos
    ({"sentiments": ["negative"]}, lambda v: v["sentiment"] == "negative"),  # a third of the library
    ({"date_from": "2026-06-01", "date_to": "2026-08-31"}, lambda v: "2026-06-01" <= v["upload_date"] <= "2026-08-31"),
])
def test_a_filter_still_fills_the_page_with_the_nearest_it_keeps(library, name, filters, keep):
    store = library.stores[name]
    for query in library.queries[:4]:
        hits = found(store, query, **filters)
        assert len(hits) == 10  # however few videos the filter keeps, as long as they hold ten sentences
        exact = exact_top(library, store, query, 10, keep)
        assert len(set(hits) & set(exact)) >= 8, (hits, exact)


@pytest.mark.parametrize("name", STORES)
def test_keyword_matches_are_filtered_before_the_limit(library, name):
    """"market" is said in 300 videos; of the three on one platform, all three matching sentences are found (their
    meaning is far from the query, so only the words can bring them)."""
    store = library.stores[name]
    ids = {job.video_id: job.id for job in store.list_jobs()}
    expected = {(ids[v["video_id"]], SENTENCES - 1) for v in library.videos if v["platform"] == "dailymotion"}
    unrelated = _unit(np.random.default_rng(9).standard_normal(DIM))
    hits = store.search_segments(unrelated, ["market"], MODEL, 10, SearchFilters(platforms=["dailymotion"]))
    assert expected <= {(job_id, idx) for job_id, idx, _, keyword in hits if keyword}


@pytest.mark.parametrize("name", STORES)
def test_a_word_every_segment_holds_lifts_the_nearest_alike(library, name):
    """"subject" is in all 10,000 sentences, far more than the keyword half ranks: the nearest by meaning gain
    for holding it as much as any other, so they stay the answer, each marked as a keyword match."""
    store = library.stores[name]
    for query in library.queries[:4]:
        hits = store.search_segments(query, ["subject"], MODEL, 10, SearchFilters())
        assert all(keyword for _, _, _, keyword in hits)
        exact = exact_top(library, store, query, 10)
        assert len({(job_id, idx) for job_id, idx, _, _ in hits} & set(exact)) >= 8


def test_the_search_index_finds_new_videos_at_once_and_never_deleted_ones(tmp_path, monkeypatch):
    """Through the approximate index, a video added since it was built is found at once (searched exactly until the
    index takes it in, in the background), and a deleted video is never found, before or after a rebuild."""
    monkeypatch.setenv("SEARCH_INDEX_MIN_SEGMENTS", "1000")
    store = LocalStore(tmp_path / "library")
    embedder = SimpleNamespace(model=MODEL)
    videos, queries = _library()
    for video in videos[:60]:  # 1,500 sentences
        add_video(store, embedder, **video)
    wait_for(lambda: store.search_index_coverage(MODEL) == (1500, 1500), what="the search index")

    rng = np.random.default_rng(5)
    newcomer = _unit(rng.standard_normal(DIM) + rng.standard_normal((SENTENCES, DIM)) / np.sqrt(DIM) * 0.5)
    new_id = add_video(store, embedder, **(videos[60] | {"vectors": newcomer}))
    # The background thread takes the video in a moment later (or, on a quick machine, already has): either way
    # it is found at once.
    covered, total = store.search_index_coverage(MODEL)
    assert total == 1525 and covered in (1500, 1525)
    assert found(store, newcomer[3])[0] == (new_id, 3)
    wait_for(lambda: store.search_index_coverage(MODEL) == (1525, 1525), what="the index to take the video in")
    assert found(store, newcomer[3])[0] == (new_id, 3)

    ids = {job.video_id: job.id for job in store.list_jobs()}
    gone = [ids[video["video_id"]] for video in videos[:20]]  # a third of the index: it is built again
    for job_id in gone:
        store.delete_job(job_id)
    for query in [*queries[:4], *(video["vectors"][0] for video in videos[:20])]:
        hits = found(store, query, limit=20)
        assert len(hits) == 20 and not {job_id for job_id, _ in hits} & set(gone)
    wait_for(lambda: store.search_index_coverage(MODEL) == (1025, 1025), what="the index to be built again")
    for query in queries[:4]:
        assert not {job_id for job_id, _ in found(store, query, limit=20)} & set(gone)


def test_rows_the_graph_does_not_hold_yet_are_measured_exactly():
    """A graph over the first 1,500 of 1,525 rows, while it is busy (so it is not extended): the 25 newer rows are
    measured beside what the graph finds, and the nearest of them comes first."""
    from core.store.nearest import Graph, GraphSlot, NearestSearch

    videos, _ = _library()
    matrix = np.vstack([video["vectors"] for video in videos[:61]])
    rowids = np.arange(1, len(matrix) + 1, dtype=np.int64)
    slot = GraphSlot()
    slot.graph = Graph(DIM)
    slot.graph.add(rowids[:1500], matrix[:1500])
    slot.building = True  # extending it is under way: the newest rows wait
    search = NearestSearch(matrix, rowids, slot, min_rows=1000)
    assert search.coverage() == (1500, 1525)
    rows, _ = search.nearest(matrix[1503], depth=10, allowed=None)
    assert rows[0] == 1503
