"""Hybrid search over the library: meaning, exact words, filters and links to the moment."""

import numpy as np
import pytest

from core import api
from core.config import get_settings
from core.models import SearchFilters
from core.providers.embed import get_embedder
from core.sources.platforms import link_at
from core.store import get_store
from testkit.library import add_video


def _delete_vectors(database_url: str | None, job_id: str, model: str) -> None:
    """Simulate a library embedded with another model: this job has no vectors of the current one."""
    if database_url is None:
        with get_store()._tx() as conn:
            conn.execute("DELETE FROM embeddings WHERE job_id = ? AND model = ?", (job_id, model))
    else:
        import psycopg

        with psycopg.connect(database_url) as conn:
            conn.execute("delete from embeddings where job_id = %s and model = %s", (job_id, model))


@pytest.fixture
def searchable(backend):
    store, embedder = get_store(), get_embedder(get_settings())
    ids = {
        "garden": add_video(store, embedder, video_id="garden00001", title="Rooftop gardens", category="lifestyle",
                            sentiment="positive", upload_date="2026-03-01", sentences=[
                                "Welcome to the show about city gardens.",
                                "Tomatoes need six hours of sunshine and a deep pot.",
                                "Water the plants early in the morning so the leaves dry.",
                            ]),
        "cluster": add_video(store, embedder, video_id="cluster0001", title="Running services", platform="vimeo",
                             category="technology", sentiment="negative", upload_date="2026-06-15", sentences=[
                                 "Our outage started when the Kubernetes control plane ran out of memory.",
                                 "The database failover took forty minutes, which was terrible.",
                                 "Next time we will page the on-call engineer sooner.",
                             ]),
        "match": add_video(store, embedder, video_id="match000001", title="Cup final", category="sports",
                           sentiment="positive", upload_date="2026-09-20", sentences=[
                               "The striker scored twice in the second half.",
                               "The goalkeeper saved a penalty in the last minute.",
                           ]),
    }
    return ids


def test_meaning_finds_the_moment_without_shared_words(searchable):
    [best, *_] = api.search("how much sun do vegetables need", limit=3)
    assert best.job_id == searchable["garden"]
    assert best.start == 5.0 and "sunshine" in best.text


def test_exact_rare_words_are_found(searchable):
    hits = api.search("Kubernetes", limit=3)
    assert hits[0].job_id == searchable["cluster"] and "Kubernetes" in hits[0].text
    assert hits[0].keyword_match


def test_filters(searchable):
    def jobs(**filters):
        return {h.job_id for h in api.search("something happened", limit=20, filters=SearchFilters(**filters))}

    assert jobs(platforms=["vimeo"]) == {searchable["cluster"]}
    assert jobs(categories=["sports"]) == {searchable["match"]}
    assert jobs(sentiments=["positive"]) == {searchable["garden"], searchable["match"]}
    assert jobs(date_from="2026-06-01") == {searchable["cluster"], searchable["match"]}
    assert jobs(date_from="2026-06-01", date_to="2026-07-01") == {searchable["cluster"]}
    assert jobs(categories=["music"]) == set()
    # one video ("ask this video"), and the videos of a collection, also by their words alone
    assert jobs(job_ids=[searchable["garden"]]) == {searchable["garden"]}
    store = get_store()
    channel = store.save_collection(url="https://vimeo.com/channels/ops", platform="vimeo", source_id="ops",
                                    title="Ops talks")
    store.update_job(searchable["cluster"], collection_id=channel.id)
    assert jobs(collections=[channel.id]) == {searchable["cluster"]}
    assert [h.job_id for h in api.search("Kubernetes", filters=SearchFilters(collections=[channel.id]))][:1] == [
        searchable["cluster"]]
    assert api.search("Kubernetes", filters=SearchFilters(job_ids=[searchable["garden"]]))[0].job_id == (
        searchable["garden"])


def test_hits_link_to_the_moment(searchable):
    [hit] = api.search("goalkeeper saved a penalty", limit=1)
    assert hit.url == "https://www.youtube.com/watch?v=match000001&t=5s"


@pytest.mark.parametrize("url, platform, seconds, expected", [
    ("https://www.youtube.com/watch?v=abc&t=3s", "youtube", 75, "https://www.youtube.com/watch?v=abc&t=75s"),
    ("https://vimeo.com/123", "vimeo", 61, "https://vimeo.com/123#t=61s"),
    ("https://www.twitch.tv/videos/1", "twitch", 3723, "https://www.twitch.tv/videos/1?t=1h2m3s"),
    ("https://example.com/a.mp4", "generic", 12.7, "https://example.com/a.mp4#t=12"),
    ("https://www.tiktok.com/@u/video/1", "tiktok", 30, "https://www.tiktok.com/@u/video/1"),
    ("https://www.youtube.com/watch?v=abc", "youtube", 0, "https://www.youtube.com/watch?v=abc"),
])
def test_link_at(url, platform, seconds, expected):
    assert link_at(url, platform, seconds) == expected


def test_deleted_and_unfinished_videos_are_not_found(searchable):
    api.delete(searchable["cluster"])
    assert all(h.job_id != searchable["cluster"] for h in api.search("Kubernetes outage", limit=10))


def test_changing_the_embedding_model_reindexes_instead_of_mixing(searchable, backend):
    store = get_store()
    current = get_embedder(get_settings()).model
    # Vectors from another model are never compared with the current model's.
    store.save_embeddings(searchable["garden"], "another-model", get_embedder(get_settings()).embed(["x", "y", "z"]))
    store_rows = store.jobs_missing_embeddings(current)
    assert store_rows == []
    _delete_vectors(backend, searchable["garden"], current)
    assert store.jobs_missing_embeddings(current) == [searchable["garden"]]
    assert all(h.job_id != searchable["garden"] for h in api.search("tomatoes sunshine", limit=10))
    assert api.reindex() == 1
    assert api.search("tomatoes sunshine", limit=1)[0].job_id == searchable["garden"]


def test_a_batch_of_texts_gets_each_text_its_own_vector_in_order():
    # Texts of very different lengths, more than one batch of them: batched by length inside, returned as asked.
    texts = [" ".join(["garden"] * (n % 37 + 1)) + f" number {n}" for n in range(70)]
    embedder = get_embedder(get_settings())
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([text]) for text in texts])
    assert together.shape == (70, embedder.dim)
    assert (together * alone).sum(axis=1).min() > 0.99


def test_a_server_prepares_search_once_and_a_library_it_cannot_open_is_said_not_raised(tmp_path, monkeypatch,
                                                                                         caplog):
    (tmp_path / "a-file").write_text("not a directory")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "a-file"))
    api.prepare_search.cache_clear()
    preparing = api.prepare_search()
    assert api.prepare_search() is preparing
    preparing.join(120)
    assert not preparing.is_alive()
    assert "Could not prepare search ahead of the first query" in caplog.text
    with pytest.raises(api.LibraryUnavailable, match="Point DATA_DIR at a folder"):  # the first search says why
        api.search("tomatoes")
