"""A link goes through the real queue, worker, yt-dlp, ffmpeg and offline engines."""

import json

import pytest

from core.pipeline import run_now


@pytest.fixture(scope="module")
def cooking_job(library, media_server):
    result = library.cli("submit", f"{media_server}/cooking.mp4", "--wait", "--json")
    assert result.returncode == 0, result.stderr + (library.data_dir / "worker.log").read_text()[-3000:]
    [job] = json.loads(result.stdout)
    return job


def test_submit_wait_completes_with_transcript_analysis_and_search(library, cooking_job):
    assert cooking_job["status"] == "completed"
    assert cooking_job["platform"] == "generic"
    assert cooking_job["title"] == "cooking"
    assert cooking_job["duration"] > 5

    shown = library.cli("show", cooking_job["id"], "--json")
    assert shown.returncode == 0, shown.stderr
    details = json.loads(shown.stdout)
    text = details["transcript"]["text"].lower()
    for word in ("cooking", "chocolate", "cake", "strawberries", "oven"):
        assert word in text
    assert details["transcript"]["language"] == "en"
    segments = details["transcript"]["segments"]
    assert segments and all(s["end"] > s["start"] >= 0 for s in segments)
    assert [s["start"] for s in segments] == sorted(s["start"] for s in segments)

    analysis = details["analysis"]
    assert analysis["summary"]
    assert 3 <= len(analysis["topics"]) <= 8
    assert analysis["sentiment"]["label"] == "positive"
    assert 0 < analysis["sentiment"]["score"] <= 1
    assert analysis["category"] == "food"

    found = library.cli("search", "a dessert recipe", "--json")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    # The dessert moment first: this video's, or the same moment of another copy of the talk in the shared library.
    assert "cake" in hits[0]["text"].lower()
    assert any(hit["job_id"] == cooking_job["id"] and hit["text"] == hits[0]["text"] for hit in hits)
    assert set(hits[0]) >= {"job_id", "video_id", "title", "start", "end", "text", "score"}


def test_every_stage_is_timestamped(library, cooking_job):
    times = cooking_job["stage_times"]
    for stage in ("pending", "downloading", "extracting_audio", "uploading", "transcribing", "diarizing", "analyzing",
                  "generating_embeddings", "storing", "completed"):
        assert stage in times


def test_same_video_is_not_processed_twice(library, media_server, cooking_job):
    again = library.cli("submit", f"{media_server}/cooking.mp4?utm_source=newsletter", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)[0]["id"] == cooking_job["id"]
    listed = json.loads(library.cli("jobs", "--json").stdout)
    assert [j["id"] for j in listed].count(cooking_job["id"]) == 1


def test_force_reprocesses(library, media_server, cooking_job):
    result = library.cli("submit", f"{media_server}/cooking.mp4", "--force", "--wait", "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)
    assert job["id"] == cooking_job["id"] and job["status"] == "completed"
    assert job["stage_times"]["downloading"] >= cooking_job["stage_times"]["completed"]


@pytest.mark.parametrize("path, stage, message", [
    ("article.html", "downloading", "No video was found at this link"),
    ("missing.mp4", "downloading", "unavailable"),
    ("silent.mp4", "transcribing", "No speech was detected"),
    ("music.mp4", "transcribing", "No speech was detected"),
    ("mute.mp4", "extracting_audio", "no sound track"),
])
def test_bad_media_fails_with_a_readable_error(library, media_server, path, stage, message):
    result = library.cli("submit", f"{media_server}/{path}", "--wait", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    [job] = json.loads(result.stdout)
    assert job["status"] == "failed"
    assert job["stage"] == stage
    assert message in job["error"]


@pytest.mark.parametrize("path, stage", [("mute.mp4", "extracting_audio"), ("silent.mp4", "transcribing"),
                                         ("music.mp4", "transcribing")])
def test_run_exits_1_on_a_failure_while_engines_load(empty_library, media_server, path, stage):
    """The job fails while the engines still load on another thread: the process ends cleanly, with status 1."""
    result = empty_library.cli("run", f"{media_server}/{path}", "--json")
    assert result.returncode == 1, result.stderr
    assert "terminate called" not in result.stderr and "Traceback" not in result.stderr
    [job] = json.loads(result.stdout)
    assert (job["status"], job["stage"]) == ("failed", stage)


def test_run_in_process_without_redis(empty_library, media_server):
    result = empty_library.cli("run", f"{media_server}/football.mp4", "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)
    assert job["status"] == "completed"
    details = json.loads(empty_library.cli("show", job["id"], "--json").stdout)
    assert "penalty" in details["transcript"]["text"].lower()
    assert details["analysis"]["sentiment"]["label"] == "negative"
    assert details["analysis"]["category"] == "sports"


def test_jobs_one_after_another_in_one_long_lived_process(empty_library, media_server, tmp_path, monkeypatch):
    """A process that runs jobs itself (a script using core.api, a notebook) has the speech-to-text and
    translation engines loaded after its first job, and drops models when its settings change; every later
    download and listing still starts cleanly (a download forked from such a process crashed)."""
    from core.config import get_settings
    from core.sources.media import list_videos
    from testkit import media

    site = tmp_path / "site"
    site.mkdir()
    media.video_with_speech("Me encanta esta ciudad. El mercado está lleno de frutas frescas.", site / "ciudad.mp4",
                            "es")
    server, spanish_site = media.serve(site)
    try:
        first = run_now(f"{spanish_site}/ciudad.mp4")
    finally:
        server.shutdown()
    assert first.status.value == "completed", first.error
    assert "translating" in first.stage_times  # both of Whisper's tasks have run in this process
    for round_, (model, batch) in enumerate([("tiny.en", "4"), ("base", "1"), ("base", "4")]):
        monkeypatch.setenv("WHISPER_MODEL", model)
        monkeypatch.setenv("WHISPER_BATCH_SIZE", batch)
        for name in ("cooking", "football"):
            job = run_now(f"{media_server}/{name}.mp4", force=round_ > 0)
            assert job.status.value == "completed", f"{name}, round {round_ + 1}: {job.error}"
        listing = list_videos(f"{media_server}/trips.html", get_settings(), limit=10)
        assert listing is not None and len(listing.urls) == 2


def test_dead_redis_gives_a_clear_error_and_keeps_the_job(empty_library, media_server):
    result = empty_library.cli("submit", f"{media_server}/cooking.mp4", "--json")
    assert result.returncode == 1
    assert "cannot be reached" in result.stderr and "Redis" in result.stderr
    [job] = json.loads(empty_library.cli("jobs", "--json").stdout)
    assert job["status"] == "failed" and "Redis" in job["error"]


def test_long_audio_is_transcribed_in_pieces_with_word_times(empty_library, media_server, tmp_path):
    from testkit import media
    from tests.conftest import COOKING, FOOTBALL

    site = tmp_path / "site"
    site.mkdir()
    media.video_with_speech(f"{COOKING} {FOOTBALL} {COOKING}", site / "long.mp4")
    server, url = media.serve(site)
    try:
        empty_library.env["TRANSCRIBE_CHUNK_SECONDS"] = "15"
        result = empty_library.cli("run", f"{url}/long.mp4", "--json")
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)
    assert job["duration"] > 30  # more than two pieces
    from core import api

    transcript = api.transcript(job["id"])
    text = transcript.text.lower()
    for word in ("chocolate", "football", "penalty", "strawberries"):
        assert word in text
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts) and transcript.segments[-1].end > 30
    words = [w for s in transcript.segments for w in (s.words or [])]
    assert len(words) > 40
    assert all(s.start - 0.5 <= w.start <= w.end <= s.end + 0.5 for s in transcript.segments for w in s.words or [])


def test_pipeline_on_postgres(empty_library, postgres_url, media_server):
    """The same pipeline with the library's rows in Postgres + pgvector (DATABASE_URL)."""
    empty_library.env["DATABASE_URL"] = postgres_url
    result = empty_library.cli("run", f"{media_server}/cooking.mp4", "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)
    assert job["status"] == "completed"
    details = json.loads(empty_library.cli("show", job["id"], "--json").stdout)
    assert "chocolate" in details["transcript"]["text"].lower()
    assert details["analysis"]["category"] == "food"
    hits = json.loads(empty_library.cli("search", "a dessert recipe", "--json").stdout)
    assert hits[0]["job_id"] == job["id"]
    again = json.loads(empty_library.cli("submit", f"{media_server}/cooking.mp4", "--json").stdout)
    assert again[0]["id"] == job["id"]  # dedupe by (platform, video_id) holds on Postgres too


def test_pipeline_on_supabase_with_keys_only(empty_library, supabase_project, media_server, monkeypatch):
    """Rows through Supabase's REST API, audio and thumbnail in its Storage: only SUPABASE_URL and keys set."""
    import requests

    from core import api
    from tests.conftest import use_supabase

    use_supabase(supabase_project, empty_library.env, monkeypatch)
    result = empty_library.cli("run", f"{media_server}/cooking.mp4", "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)
    assert job["status"] == "completed"
    assert "chocolate" in api.transcript(job["id"]).text.lower()
    assert api.search("a dessert recipe", limit=1)[0].job_id == job["id"]

    audio = api.audio_file(job["id"])
    audio_url = api.media_file(audio.audio_path)
    assert "/object/sign/temp-audio/" in audio_url and "token=" in audio_url  # private bucket: a signed link
    played = requests.get(audio_url, timeout=10)
    # The test video's light AAC sound track is kept as it is, in an M4A.
    assert audio.audio_path.endswith("/audio.m4a") and played.content[4:8] == b"ftyp"
    thumbnail_url = api.media_file(audio.thumbnail_path)
    assert "/object/public/thumbnails/" in thumbnail_url
    assert requests.get(thumbnail_url, timeout=10).content[:2] == b"\xff\xd8"
    roles = {role for method, path, role in supabase_project.calls("/rest/v1/rpc/save_transcript")}
    assert roles == {"service_role"}  # the worker writes with the service role

    api.delete(job["id"])
    assert api.list_jobs() == []
    assert not [p for p in (supabase_project.storage / "temp-audio").rglob("audio.*")]


def test_plain_rq_worker_runs_the_pipeline(empty_library, redis_url, media_server):
    """`rq worker pipeline` (as the README documents) works as well as worker.py."""
    import subprocess
    import sys

    from tests.conftest import SCRATCH

    empty_library.env["REDIS_URL"] = redis_url.rsplit("/", 1)[0] + "/5"  # a queue no other worker reads
    queued = empty_library.cli("submit", f"{media_server}/football.mp4", "--json")
    assert queued.returncode == 0, queued.stderr
    [job] = json.loads(queued.stdout)
    assert job["status"] == "pending"
    rq = subprocess.run([sys.executable, "-m", "rq.cli", "worker", "pipeline", "--burst", "--with-scheduler",
                         "--url", empty_library.env["REDIS_URL"]], cwd=SCRATCH, env=empty_library.env,
                        capture_output=True, text=True, timeout=300)
    assert rq.returncode == 0, rq.stderr[-2000:]
    shown = json.loads(empty_library.cli("show", job["id"], "--json").stdout)
    assert shown["status"] == "completed" and "penalty" in shown["transcript"]["text"].lower()


def test_oversized_media_is_refused(empty_library, media_server):
    empty_library.env["MAX_DURATION_SECONDS"] = "5"
    result = empty_library.cli("run", f"{media_server}/cooking.mp4", "--json")
    [job] = json.loads(result.stdout)
    assert job["status"] == "failed" and "MAX_DURATION_SECONDS" in job["error"]
    empty_library.env["MAX_DURATION_SECONDS"] = "14400"
    empty_library.env["MAX_DOWNLOAD_MB"] = "0"
    result = empty_library.cli("run", f"{media_server}/football.mp4", "--json")
    [job] = json.loads(result.stdout)
    assert job["status"] == "failed" and "MAX_DOWNLOAD_MB" in job["error"]
