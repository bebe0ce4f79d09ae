"""Audio kept only as long as wanted (AUDIO_RETENTION_DAYS): expired audio goes, nothing else does, on every
store; the clock is the clean-up's own `now` and the rows' stored times."""

from datetime import UTC, datetime, timedelta

from streamlit.testing.v1 import AppTest

from core import api
from core.jobs import retention
from core.models import AudioFile, Stage
from core.store import get_store
from tests.conftest import ROOT, transcript_rows
from tests.test_store_contract import ANALYSIS, TRANSCRIPT, media_exists, new_job, run_sql, vectors


def stored_video(store, tmp_path, video_id):
    job = new_job(store, video_id)
    keys = {}
    for bucket, name, content in (("temp-audio", "audio.mp3", b"ID3 audio"), ("thumbnails", "thumbnail.jpg", b"jpg")):
        source = tmp_path / f"{video_id}-{name}"
        source.write_bytes(content)
        keys[bucket] = store.put_blob(bucket, f"{job.id}/{name}", source)
    store.save_audio_file(AudioFile(job_id=job.id, audio_path=keys["temp-audio"], thumbnail_path=keys["thumbnails"],
                                    duration=3.0, size_bytes=9, sample_rate=22050))
    store.save_transcript(job.id, TRANSCRIPT)
    store.save_analysis(job.id, ANALYSIS)
    store.save_embeddings(job.id, "m", vectors(2))
    store.enter_stage(job.id, Stage.COMPLETED)
    return job, keys


def test_only_expired_audio_is_removed(backend, monkeypatch, tmp_path):
    store = get_store(service_role=True)
    old, old_keys = stored_video(store, tmp_path, "old00000001")
    fresh, fresh_keys = stored_video(store, tmp_path, "new00000002")
    forty_days_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="milliseconds")
    run_sql(backend, "UPDATE audio_files SET created_at = ? WHERE job_id = ?",
            "update audio_files set created_at = %s where job_id = %s", (forty_days_ago, old.id))

    assert retention.cleanup() == 0  # AUDIO_RETENTION_DAYS unset: kept for ever
    monkeypatch.setenv("AUDIO_RETENTION_DAYS", "30")
    assert retention.cleanup() == 1
    assert not media_exists(store.media_location(old_keys["temp-audio"]))
    assert store.get_audio_file(old.id).audio_removed_at is not None
    links = api.media_links(old.id)  # as `show --json` and the HTTP API tell programs
    assert links.audio_url is None and links.thumbnail_url and media_exists(api.stored_media(old.id, "thumbnail"))
    for job, keys in ((old, old_keys), (fresh, fresh_keys)):  # everything else stays
        assert media_exists(store.media_location(keys["thumbnails"]))
        assert store.get_transcript(job.id) == TRANSCRIPT and store.get_analysis(job.id) == ANALYSIS
        assert store.has_embeddings(job.id, "m") and store.get_job(job.id).status == Stage.COMPLETED
    assert media_exists(store.media_location(fresh_keys["temp-audio"]))
    assert store.get_audio_file(fresh.id).audio_removed_at is None
    assert retention.cleanup() == 0  # nothing twice
    assert retention.cleanup(now=datetime.now(UTC) + timedelta(days=31)) == 1  # the fresh one's turn comes


def test_the_command_and_the_video_page(empty_library, tmp_path):
    store = get_store()
    job, _ = stored_video(store, tmp_path, "cli00000001")
    kept = empty_library.cli("cleanup")
    assert kept.returncode == 0 and "kept for ever" in kept.stdout
    forty_days_ago = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="milliseconds")
    run_sql(None, "UPDATE audio_files SET created_at = ? WHERE job_id = ?", "", (forty_days_ago, job.id))
    empty_library.env["AUDIO_RETENTION_DAYS"] = "30"
    cleaned = empty_library.cli("cleanup")
    assert cleaned.returncode == 0 and "removed the stored audio of 1 videos" in cleaned.stdout
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params["job"] = job.id
    at.switch_page("pages/video.py").run()
    assert not at.exception
    assert any("no longer kept" in i.value for i in at.info)
    rows = transcript_rows(at)
    assert rows and all(row["link"] for row in rows)  # each time opens the original at that moment
