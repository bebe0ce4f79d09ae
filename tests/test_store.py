"""The embedded store's own concerns: versioned migrations that upgrade an existing library in place, and
media paths that stay inside its folder. (What every store does is in test_store_contract.py.)"""

import sqlite3
from importlib import resources
from types import SimpleNamespace

import numpy as np

from core.store.local import LocalStore, _statements
from testkit.library import add_video


def test_new_library_is_at_the_latest_version(tmp_path):
    store = LocalStore(tmp_path)
    latest = max(int(f.name.split("_")[0]) for f in (resources.files("core.store") / "migrations").iterdir()
                 if f.name.endswith(".sql"))
    assert store.schema_version == latest


def test_upgrade_keeps_data_and_indexes_it(tmp_path):
    first = (resources.files("core.store") / "migrations" / "0001_initial.sql").read_text()
    with sqlite3.connect(tmp_path / "library.sqlite3") as conn:
        for statement in _statements(first):
            conn.execute(statement)
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO jobs (id, url, platform, extractor, video_id, created_at, updated_at)"
                     " VALUES ('j1', 'https://x/1', 'generic', 'Generic', 'v1', '2026-01-01', '2026-01-01')")
        conn.execute("INSERT INTO transcriptions (job_id, text, language, engine, created_at)"
                     " VALUES ('j1', 'Zanzibar spices', 'en', 'test', '2026-01-01')")
        conn.execute("INSERT INTO segments (job_id, idx, start, \"end\", text) "
                     "VALUES ('j1', 0, 0, 2, 'Zanzibar spices')")
    store = LocalStore(tmp_path)
    assert store.schema_version >= 2
    assert store.get_transcript("j1").segments[0].text == "Zanzibar spices"
    assert store.keyword_segments(["zanzibar"], {"j1"}, 5) == [("j1", 0, "Zanzibar spices")]


def test_blob_paths_cannot_escape_the_storage_folder(tmp_path):
    store = LocalStore(tmp_path)
    (tmp_path / "secret.txt").write_text("x")
    assert store.media_location("../secret.txt") is None


def _vm_steps_to_delete_a_video(folder, videos: int) -> int:
    """SQLite's virtual-machine steps (in hundreds) to delete one 30-sentence video from a library of `videos`:
    a count of work done, the same on any machine."""
    store = LocalStore(folder)
    vectors = np.eye(30, 8, dtype=np.float32)
    ids = [add_video(store, SimpleNamespace(model="m"), video_id=f"v{n:010d}", title=f"talk {n}", vectors=vectors,
                     sentences=[f"Sentence {i} of talk {n} about zanzibar spices." for i in range(30)])
           for n in range(videos)]
    steps = []
    connection = store._connection()
    connection.set_progress_handler(lambda: steps.append(1), 100)
    store.delete_job(ids[0])
    connection.set_progress_handler(None, 100)
    assert store.get_job(ids[0]) is None and store.keyword_segments(["zanzibar"], set(ids[1:]), 1)
    return len(steps)


def test_deleting_a_video_costs_what_the_video_holds_not_what_the_library_holds(tmp_path):
    alone = _vm_steps_to_delete_a_video(tmp_path / "small", 2)
    among_many = _vm_steps_to_delete_a_video(tmp_path / "large", 150)
    assert among_many < alone * 2, (alone, among_many)


def test_keyword_matches_of_unfinished_videos_never_crowd_out_finished_ones(tmp_path):
    """Unfiltered, the best keyword matches are ranked before their videos are checked: when more than the margin
    of them belong to videos still in progress, the matches are checked first after all."""
    from core.models import SearchFilters, Segment, Stage, Transcript

    store = LocalStore(tmp_path)
    embedder = SimpleNamespace(model="m")
    vector = lambda n: np.eye(8, dtype=np.float32)[n % 8]  # noqa: E731
    for n in range(6):  # in progress: their transcript is stored, they are not searchable yet
        job = store.create_job(url=f"https://example.com/w{n}", platform="generic", extractor="Generic",
                               video_id=f"w{n}")
        store.save_transcript(job.id, Transcript(text="", language="en", engine="test", segments=[
            Segment(start=i, end=i + 1, text="market") for i in range(40)]))
        store.enter_stage(job.id, Stage.TRANSCRIBING)
    finished = add_video(store, embedder, video_id="done00000001", title="done", vectors=np.stack([vector(1)] * 2),
                         sentences=["The old covered market of the town sells fish and bread.", "Nothing else."])
    hits = store.search_segments(vector(5), ["market"], "m", 10, SearchFilters())
    assert (finished, 0, 0.0, True) in hits  # 240 shorter matches in unfinished videos ranked before it
