"""Supabase Storage through the real `supabase` client, faked at the HTTP boundary with respx."""

import json

import httpx
import pytest
import respx

from core.store.files import SupabaseFiles

BASE = "https://project.supabase.co"
KEY = "service-role-key-for-tests"


@pytest.fixture
def storage():
    with respx.mock(base_url=f"{BASE}/storage/v1", assert_all_called=False) as mock:
        yield mock


def test_upload_creates_missing_bucket_and_serves_signed_and_public_urls(storage, tmp_path):
    audio = tmp_path / "audio.mp3"
    audio.write_bytes(b"ID3 fake mp3")
    thumb = tmp_path / "thumbnail.jpg"
    thumb.write_bytes(b"\xff\xd8 fake jpeg")
    storage.get("/bucket/temp-audio").mock(return_value=httpx.Response(
        400, json={"statusCode": "404", "error": "Bucket not found", "message": "Bucket not found"}))
    created = storage.post("/bucket").mock(return_value=httpx.Response(200, json={"name": "temp-audio"}))
    storage.get("/bucket/thumbnails").mock(return_value=httpx.Response(200, json={
        "id": "thumbnails", "name": "thumbnails", "owner": "", "public": True, "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z", "file_size_limit": None, "allowed_mime_types": None}))
    uploaded_audio = storage.post("/object/temp-audio/job1/audio.mp3").mock(
        return_value=httpx.Response(200, json={"Key": "temp-audio/job1/audio.mp3", "Id": "1"}))
    uploaded_thumb = storage.post("/object/thumbnails/job1/thumbnail.jpg").mock(
        return_value=httpx.Response(200, json={"Key": "thumbnails/job1/thumbnail.jpg", "Id": "2"}))
    signed = storage.post("/object/sign/temp-audio/job1/audio.mp3").mock(return_value=httpx.Response(
        200, json={"signedURL": "/object/sign/temp-audio/job1/audio.mp3?token=abc"}))

    files = SupabaseFiles(BASE, KEY, "temp-audio", "thumbnails")
    assert files.put("temp-audio", "job1/audio.mp3", audio) == "temp-audio/job1/audio.mp3"
    assert files.put("thumbnails", "job1/thumbnail.jpg", thumb) == "thumbnails/job1/thumbnail.jpg"

    body = json.loads(created.calls[0].request.content)
    assert body["name"] == "temp-audio" and body["public"] is False
    for route in (created, uploaded_audio, uploaded_thumb):
        request = route.calls[0].request
        assert request.headers["apikey"] == KEY and request.headers["authorization"] == f"Bearer {KEY}"
    assert b"ID3 fake mp3" in uploaded_audio.calls[0].request.content
    assert uploaded_audio.calls[0].request.headers["x-upsert"] == "true"

    url = files.url("temp-audio/job1/audio.mp3")
    assert int(json.loads(signed.calls[0].request.content)["expiresIn"]) == 3600  # private audio: 1-hour links
    assert url.startswith(f"{BASE}/storage/v1/object/sign/temp-audio/job1/audio.mp3?token=abc")
    public = files.url("thumbnails/job1/thumbnail.jpg")
    assert public.startswith(f"{BASE}/storage/v1/object/public/thumbnails/job1/thumbnail.jpg")


def test_removing_a_job_deletes_its_objects(storage):
    for bucket in ("temp-audio", "thumbnails"):
        storage.get(f"/bucket/{bucket}").mock(return_value=httpx.Response(200, json={
            "id": bucket, "name": bucket, "owner": "", "public": bucket == "thumbnails",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "file_size_limit": None, "allowed_mime_types": None}))
    storage.post("/object/list/temp-audio").mock(return_value=httpx.Response(200, json=[{"name": "audio.mp3"}]))
    storage.post("/object/list/thumbnails").mock(return_value=httpx.Response(200, json=[]))
    removed = storage.delete("/object/temp-audio").mock(return_value=httpx.Response(200, json=[]))
    SupabaseFiles(BASE, KEY, "temp-audio", "thumbnails").remove_job("job1")
    assert json.loads(removed.calls[0].request.content) == {"prefixes": ["job1/audio.mp3"]}
