"""The embedded store's own concerns: versioned migrations that upgrade an existing library in place, and
media paths that stay inside its folder. (What every store does is in test_store_contract.py.)"""

import sqlite3
from importlib import resources

from core.store.local import LocalStore, _statements


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
