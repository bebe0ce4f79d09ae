"""Media on an S3-compatible object store (MEDIA_STORAGE_URL), against a real S3 server on loopback (moto's): the
bucket made when missing, large files in parts, private objects opened by presigned URLs, nothing outside the
prefix, and an object store that is down or refuses the credentials said clearly, with nothing half-stored."""

from __future__ import annotations

import json
import os
import subprocess

import httpx
import pytest

from core import api
from core.store.files import S3Files
from testkit.media import free_port
from testkit.services import S3_CREDENTIALS, ObjectStore, wait_for
from tests.conftest import PYTHON, ROOT, SCRATCH, make_env

MEDIA_BUCKETS = ("temp-audio", "thumbnails")


@pytest.fixture(scope="module")
def object_store(tmp_path_factory):
    store = ObjectStore(tmp_path_factory.mktemp("s3") / "moto.log")
    yield store
    store.stop()


@pytest.fixture
def credentials(monkeypatch):
    for key, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(key, value)


def use_bucket(library, monkeypatch, url: str, endpoint: str) -> None:
    """Point this process and the library's commands at a bucket."""
    values = {"MEDIA_STORAGE_URL": url, "S3_ENDPOINT_URL": endpoint, **S3_CREDENTIALS}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    library.env.update(values)


def test_files_live_in_a_bucket_made_when_missing_and_never_leave_its_prefix(object_store, credentials, tmp_path):
    files = S3Files("s3://media-files/library/one", object_store.endpoint, MEDIA_BUCKETS)
    small = tmp_path / "audio.mp3"
    small.write_bytes(b"ID3" + os.urandom(2000))
    large = tmp_path / "long.m4a"
    large.write_bytes(os.urandom(12 * 1024 * 1024))
    files.PART_BYTES = 5 * 1024 * 1024  # the smallest part S3 takes, so that 12 MB go up in three

    assert files.problem() is None  # the bucket did not exist: it was created
    assert files.put("temp-audio", "job1/audio.mp3", small) == "temp-audio/job1/audio.mp3"
    assert files.put("temp-audio", "job2/audio.m4a", large) == "temp-audio/job2/audio.m4a"
    files.put("thumbnails", "job1/thumbnail.jpg", small)
    assert object_store.keys("media-files") == ["library/one/temp-audio/job1/audio.mp3",
                                                "library/one/temp-audio/job2/audio.m4a",
                                                "library/one/thumbnails/job1/thumbnail.jpg"]
    head = object_store.client().head_object(Bucket="media-files", Key="library/one/temp-audio/job2/audio.m4a")
    assert head["ETag"].strip('"').endswith("-3") and head["ContentType"] == "audio/mp4"  # three parts

    # Private: the object itself is refused, its presigned URL (an hour) opens it.
    assert httpx.get(f"{object_store.endpoint}/media-files/library/one/temp-audio/job1/audio.mp3").status_code == 403
    opened = httpx.get(files.url("temp-audio/job1/audio.mp3"))
    assert opened.status_code == 200 and opened.content == small.read_bytes()
    assert "X-Amz-Expires=3600" in files.url("temp-audio/job1/audio.mp3")
    assert httpx.get(files.url("temp-audio/job2/audio.m4a")).content == large.read_bytes()

    for escaping in ("../outside/x.mp3", "temp-audio/../../x", "/temp-audio/x", "temp-audio//x"):
        assert files.url(escaping) is None
        with pytest.raises(ValueError):
            files.put("temp-audio", escaping, small)
    with pytest.raises(ValueError):
        files.remove_job("..")

    never_used = S3Files("s3://media-never-made", object_store.endpoint, MEDIA_BUCKETS)
    never_used.remove_job("job1")  # a job deleted before anything was stored: nothing to do, no error
    never_used.remove("temp-audio/job1/audio.mp3")

    files.remove_job("job1")
    assert object_store.keys("media-files") == ["library/one/temp-audio/job2/audio.m4a"]
    files.remove("temp-audio/job2/audio.m4a")
    assert object_store.keys("media-files") == []


def test_a_video_keeps_its_media_in_the_bucket_and_opens_from_anywhere(empty_library, media_server, object_store,
                                                                       monkeypatch):
    use_bucket(empty_library, monkeypatch, "s3://video-media/studio", object_store.endpoint)
    result = empty_library.cli("run", f"{media_server}/cooking.mp4?bucket=1", "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)
    assert job["status"] == "completed", job["error"]
    stored = object_store.keys("video-media")
    assert [key.rsplit("/", 1)[0] for key in stored] == [f"studio/temp-audio/{job['id']}",
                                                         f"studio/thumbnails/{job['id']}"]
    assert not (empty_library.data_dir / "storage").exists()  # nothing on this machine's disk

    details = json.loads(empty_library.cli("show", job["id"], "--json").stdout)
    audio = httpx.get(details["media"]["audio_url"])
    assert audio.status_code == 200 and audio.headers["content-type"].startswith("audio/")
    assert len(audio.content) == api.audio_file(job["id"]).size_bytes
    thumbnail = httpx.get(details["media"]["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail.content[:2] == b"\xff\xd8"  # a JPEG
    assert details["thumbnail_url"] != details["media"]["thumbnail_url"]  # the site's own stays beside it

    # The HTTP API sends a player to the stored copy; a job without audio is a 404 that says why.
    port = free_port()
    server = subprocess.Popen([PYTHON, "-m", "core", "serve", "--port", str(port)], cwd=SCRATCH,
                              env=empty_library.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(f"{base}/health", timeout=2).status_code in (200, 503), timeout=60, what="API")
        assert httpx.get(f"{base}/jobs/{job['id']}").json()["media"]["audio_url"].startswith(object_store.endpoint)
        redirect = httpx.get(f"{base}/jobs/{job['id']}/audio")
        assert redirect.status_code == 307 and redirect.headers["location"].startswith(object_store.endpoint)
        assert httpx.get(f"{base}/jobs/{job['id']}/audio", follow_redirects=True).content == audio.content
        assert httpx.get(f"{base}/jobs/{job['id']}/thumbnail", follow_redirects=True).content == thumbnail.content
        assert httpx.get(f"{base}/jobs/nope/audio").status_code == 404
    finally:
        server.terminate()
        server.wait(15)

    # Deleting the video removes its objects.
    deleted = empty_library.cli("delete", job["id"])
    assert deleted.returncode == 0, deleted.stderr
    assert object_store.keys("video-media") == []


def test_an_object_store_that_is_down_fails_the_job_clearly_and_stores_nothing(empty_library, media_server,
                                                                              monkeypatch, tmp_path):
    port = free_port()  # nothing listens there yet
    use_bucket(empty_library, monkeypatch, "s3://outage-media", f"http://127.0.0.1:{port}")
    assert "cannot be reached" in api.media_problem()

    result = empty_library.cli("run", f"{media_server}/football.mp4?outage=1", "--json")
    assert result.returncode == 1
    [job] = json.loads(result.stdout)
    assert job["status"] == "failed" and job["stage"] == "uploading"
    assert "The media store s3://outage-media cannot be reached" in job["error"]
    assert "Retry resumes from uploading" in job["error"] and "Traceback" not in job["error"]
    assert api.audio_file(job["id"]) is None  # no row points at an object that is not there

    # Back up: the same command resumes it from uploading, and its audio opens.
    store = ObjectStore(tmp_path / "moto.log", port=port)
    try:
        again = empty_library.cli("run", f"{media_server}/football.mp4?outage=1", "--json")
        [done] = json.loads(again.stdout)
        assert done["status"] == "completed", (done["error"], again.stderr)
        assert done["stage_times"]["downloading"] == job["stage_times"]["downloading"]  # not downloaded again
        assert store.keys("outage-media")
        assert httpx.get(api.media_links(job["id"]).audio_url).status_code == 200
    finally:
        store.stop()


def test_refused_credentials_are_a_setting_to_fix_not_a_retry(empty_library, media_server, monkeypatch, tmp_path):
    store = ObjectStore(tmp_path / "moto.log", checks_credentials=True)
    try:
        use_bucket(empty_library, monkeypatch, "s3://guarded-media", store.endpoint)
        assert "rejects the credentials (InvalidAccessKeyId)" in api.media_problem()
        result = empty_library.cli("run", f"{media_server}/cooking.mp4?refused=1", "--json")
        [job] = json.loads(result.stdout)
        assert job["status"] == "failed" and job["stage"] == "uploading"
        assert "rejects the credentials (InvalidAccessKeyId): check AWS_ACCESS_KEY_ID" in job["error"]
        assert "tried" not in job["error"] and api.audio_file(job["id"]) is None
    finally:
        store.stop()


@pytest.mark.parametrize("url", ["s3://", "s3:///prefix", "https://bucket/prefix", "s3://Bad_Bucket"])
def test_a_malformed_media_storage_url_is_refused_with_the_reason(url, monkeypatch):
    from pydantic import ValidationError

    from core.config import Settings

    monkeypatch.setenv("MEDIA_STORAGE_URL", url)
    with pytest.raises(ValidationError, match="MEDIA_STORAGE_URL"):
        Settings()


def test_a_worker_tries_the_job_again_once_the_object_store_is_back(redis_url, model_cache, media_server, tmp_path,
                                                                    monkeypatch):
    """The forked job of a real worker meets the store down at uploading: the queue tries it again later, and the
    try after the store came back completes it, from uploading."""
    port = free_port()
    env = make_env(tmp_path / "data", redis_url.rsplit("/", 1)[0] + "/9", model_cache)
    env.update(MEDIA_STORAGE_URL="s3://retried-media", S3_ENDPOINT_URL=f"http://127.0.0.1:{port}",
               JOB_RETRY_DELAY_SECONDS="3", QUEUE_NAME="object-store-outage", **S3_CREDENTIALS)
    for key in ("DATA_DIR", "REDIS_URL", "ALLOW_PRIVATE_URLS", "MEDIA_STORAGE_URL", "S3_ENDPOINT_URL", "QUEUE_NAME",
                "JOB_RETRY_DELAY_SECONDS", *S3_CREDENTIALS):  # this process enqueues: its retry delay is the one used
        monkeypatch.setenv(key, env[key])
    with open(tmp_path / "worker.log", "w") as log:
        worker = subprocess.Popen([PYTHON, str(ROOT / "worker.py")], cwd=SCRATCH, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
    store = None
    try:
        job_id = api.submit(f"{media_server}/cooking.mp4?outage=worker").job.id
        wait_for(lambda: "try 2 of 3" in (api.get_job(job_id).progress_detail or ""), timeout=180,
                 what="the first try's failure")
        waiting = api.get_job(job_id)
        assert waiting.status.value == "pending" and "The media store s3://retried-media cannot be reached" in (
            waiting.error)
        assert api.audio_file(job_id) is None
        store = ObjectStore(tmp_path / "moto.log", port=port)
        [done] = api.wait([job_id], timeout=180)
        assert done.status.value == "completed", done.error
        assert done.stage_times["downloading"] == waiting.stage_times["downloading"]  # resumed, not started over
        assert httpx.get(api.media_links(job_id).audio_url).status_code == 200
    finally:
        worker.terminate()
        worker.wait(30)
        if store is not None:
            store.stop()
