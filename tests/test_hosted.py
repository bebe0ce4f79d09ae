"""Hosted engines through the real openai client, against a local OpenAI-compatible server."""

import json
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.config import Settings
from core.pipeline.steps import analyzing
from core.providers.hosted import OpenAIEmbedder, OpenAITranscriber
from testkit import media
from testkit.fake_openai import FakeOpenAI

KEY = "sk-test-THIS-KEY-MUST-NEVER-SHOW-1234567890"


@pytest.fixture
def fake_openai():
    server = FakeOpenAI()
    yield server
    server.close()


@pytest.fixture
def hosted(empty_library, fake_openai, monkeypatch):
    empty_library.env.update(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=fake_openai.base_url, OPENAI_MAX_RETRIES="2")
    for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_MAX_RETRIES"):
        monkeypatch.setenv(key, empty_library.env[key])
    return empty_library


def settings_for(fake: FakeOpenAI, tmp_path: Path, **extra) -> Settings:
    return Settings(openai_api_key=KEY, openai_base_url=fake.base_url, data_dir=tmp_path, openai_max_retries=2,
                    **extra)


def test_whole_pipeline_on_hosted_engines_with_costs(hosted, fake_openai, media_server):
    hosted.env["VOCABULARY"] = "Ganache, Chantilly"
    result = hosted.cli("run", f"{media_server}/cooking.mp4", "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)
    assert job["status"] == "completed"
    details = json.loads(hosted.cli("show", job["id"], "--json").stdout)
    assert "chocolate cake" in details["transcript"]["text"]
    # the model was told the words to expect, and the transcript says what it was told
    assert {u["prompt"] for u in fake_openai.calls("/v1/audio/transcriptions")} == {"Ganache, Chantilly."}
    assert details["transcript"]["vocabulary"] == ["Ganache", "Chantilly"]
    assert details["transcript"]["language"] == "en"
    assert details["analysis"]["category"] == "food" and details["analysis"]["sentiment"]["label"] == "positive"
    cost = details["cost"]
    assert cost["usd"] > 0
    assert cost["stages"]["transcribing"]["models"] == ["whisper-1"]
    assert cost["stages"]["transcribing"]["audio_minutes"] > 0.1
    assert cost["stages"]["analyzing"]["input_tokens"] > 0 and cost["stages"]["analyzing"]["output_tokens"] > 0
    assert cost["stages"]["generating_embeddings"]["models"] == ["text-embedding-3-small"]
    assert all(r["headers"]["authorization"] == f"Bearer {KEY}" for r in fake_openai.requests)
    found = json.loads(hosted.cli("search", "chocolate cake", "--json").stdout)
    assert found and found[0]["job_id"] == job["id"]


def test_long_audio_is_split_sent_in_parallel_and_stitched(fake_openai, tmp_path):
    wav = tmp_path / "thirty-minutes.wav"
    media.tone(wav, 1800)
    settings = settings_for(fake_openai, tmp_path, openai_parallel_requests=3)
    progress = []
    transcript = OpenAITranscriber(settings).transcribe(wav, 1800.0, lambda f, d: progress.append(f))
    uploads = fake_openai.calls("/v1/audio/transcriptions")
    assert len(uploads) == 4  # 10-minute pieces with a small overlap
    assert all(u["upload_bytes"] < 25 * 1024 * 1024 and u["model"] == "whisper-1" for u in uploads)
    assert sum(u["duration"] for u in uploads) >= 1800
    assert 1 < fake_openai.max_in_flight <= 3
    starts = [s.start for s in transcript.segments]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    assert starts[0] == 0 and transcript.segments[-1].end > 1770
    assert all(b - a >= 1 for a, b in pairwise(starts))  # the overlaps were not kept twice
    assert progress[-1] == 1.0


def test_rate_limit_then_success(fake_openai, tmp_path):
    fake_openai.fail_next("/v1/embeddings", 429, times=2, headers={"Retry-After": "0"})
    vectors = OpenAIEmbedder(settings_for(fake_openai, tmp_path)).embed(["one", "two"])
    assert vectors.shape == (2, 64)
    assert len(fake_openai.calls("/v1/embeddings")) == 3


def test_embeddings_are_batched(fake_openai, tmp_path):
    OpenAIEmbedder(settings_for(fake_openai, tmp_path)).embed([f"sentence {i}" for i in range(600)])
    assert [c["inputs"] for c in fake_openai.calls("/v1/embeddings")] == [256, 256, 88]


def test_server_errors_fail_the_job_readably(hosted, fake_openai, media_server):
    fake_openai.fail_next("/v1/audio/transcriptions", 500, times=50)
    result = hosted.cli("run", f"{media_server}/cooking.mp4", "--json")
    assert result.returncode == 1
    [job] = json.loads(result.stdout)
    assert job["status"] == "failed" and job["stage"] == "transcribing"
    assert "HTTP 500 after 2 retries" in job["error"] and "Retry resumes from transcribing" in job["error"]
    assert "will be retried" not in job["error"]  # run without a queue: nothing will try it again by itself
    assert KEY not in result.stdout + result.stderr


def test_bad_key(hosted, fake_openai, media_server):
    fake_openai.fail_next("/v1/audio/transcriptions", 401, times=5, body={"error": {
        "message": f"Incorrect API key provided: {KEY}.", "type": "invalid_request_error", "code": "invalid_api_key"}})
    result = hosted.cli("run", f"{media_server}/cooking.mp4", "--json")
    [job] = json.loads(result.stdout)
    assert job["status"] == "failed" and "rejected the API key (401)" in job["error"]
    assert len(fake_openai.calls("/v1/audio/transcriptions")) == 1  # a bad key is not retried
    assert KEY not in result.stdout + result.stderr


def test_quota_exhausted(hosted, fake_openai, media_server):
    fake_openai.fail_next("/v1/audio/transcriptions", 429, times=5, headers={"Retry-After": "0"}, body={"error": {
        "message": "You exceeded your current quota.", "type": "insufficient_quota", "code": "insufficient_quota"}})
    result = hosted.cli("run", f"{media_server}/cooking.mp4", "--json")
    [job] = json.loads(result.stdout)
    assert job["status"] == "failed" and "out of quota" in job["error"]


def test_engines_can_be_mixed(hosted, fake_openai, media_server):
    hosted.env.update(TRANSCRIPTION_ENGINE="local", EMBEDDING_ENGINE="local")
    result = hosted.cli("run", f"{media_server}/football.mp4", "--json")
    [job] = json.loads(result.stdout)
    assert job["status"] == "completed", job["error"]
    details = json.loads(hosted.cli("show", job["id"], "--json").stdout)
    assert "penalty" in details["transcript"]["text"].lower()  # local speech-to-text heard it
    # The hosted model was asked about this video's own transcript, and its answer is the analysis stored.
    asked, named = fake_openai.calls("/v1/chat/completions")
    assert "penalty" in asked["prompt"].lower() and "striker" in asked["prompt"].lower()
    assert named["schema"].endswith("ThemeNames")  # the library's new theme is named by the same model
    assert details["analysis"]["engine"] == "openai:gpt-4.1-mini"
    assert details["analysis"]["category"] == "food"  # what the server answered, not what local analysis finds
    assert not fake_openai.calls("/v1/audio") and not fake_openai.calls("/v1/embeddings")


def test_pages_show_the_cost(hosted, fake_openai, media_server):
    from streamlit.testing.v1 import AppTest

    from core import api
    from tests.conftest import ROOT

    [job] = json.loads(hosted.cli("run", f"{media_server}/cooking.mp4", "--json").stdout)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("pages/library.py").run()
    assert any("hosted" in c.value for c in at.caption)
    at.query_params.update({"job": job["id"], "tab": "🧠 Analysis"})
    at.switch_page("pages/video.py").run()
    assert not at.exception
    assert any(m.label == "Hosted cost" for m in at.metric)
    assert api.costs()[job["id"]] > 0


def test_hosted_engines_loaded_ahead_make_no_request(fake_openai, tmp_path):
    # Loading ahead is for local engines: with hosted analysis and embeddings nothing is asked of the API.
    analyzing.load_ahead(SimpleNamespace(settings=settings_for(fake_openai, tmp_path)))
    assert fake_openai.requests == []


def test_a_query_searched_again_is_not_sent_to_the_embedder_again(hosted, fake_openai):
    """A page run again for the same query (another filter, more results) searches again: the query's vector is
    asked of the hosted embedder, and paid for, once."""
    from core import api
    from core.api.search import query_vectors
    from core.config import get_settings
    from core.providers.embed import get_embedder
    from core.store import get_store
    from testkit.library import add_video

    add_video(get_store(), get_embedder(get_settings()), video_id="cake0000001", title="Cakes",
              sentences=["Whisk the chocolate into the cream.", "Bake it for forty minutes."])
    query_vectors.clear()
    sent = len(fake_openai.calls("/v1/embeddings"))
    for limit in (5, 10, 5):
        assert api.search("chocolate cake", limit=limit)[0].text == "Whisk the chocolate into the cream."
    assert len(fake_openai.calls("/v1/embeddings")) == sent + 1
    api.search("baking time", limit=5)
    assert [call["inputs"] for call in fake_openai.calls("/v1/embeddings")[sent:]] == [1, 1]
