"""The translating step: Spanish and German videos are translated into English, analysed and searched in
it, and shown and exported in both languages; offline with Whisper, hosted through a local
OpenAI-compatible server."""

import json
import subprocess

import httpx
import pytest

from core import api
from core.config import Settings
from core.models import Segment, Stage, Transcript
from core.pipeline import run_now
from core.providers.hosted import TRANSLATION_BATCH_SEGMENTS, OpenAITranslator
from core.providers.translate import align
from testkit import quality
from testkit.fake_openai import FakeOpenAI
from testkit.media import free_port, serve, video_with_speech
from tests.conftest import PYTHON, SCRATCH, wait_for

KEY = "sk-test-translation-0000000000"


@pytest.fixture(scope="module")
def foreign_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("foreign-site")
    quality.make_foreign_clips(folder)
    for clip in quality.CLIPS[:2]:  # English videos beside them, for search to choose between
        video_with_speech(clip.text, folder / f"{clip.name}.mp4")
    server, url = serve(folder)
    yield url
    server.shutdown()


@pytest.fixture
def fake_openai():
    server = FakeOpenAI()
    yield server
    server.close()


def test_offline_translation_is_analysed_searched_shown_and_exported(foreign_site, empty_library):
    english = [run_now(f"{foreign_site}/{clip.name}.mp4") for clip in quality.CLIPS[:2]]
    scores = quality.translation_scores(foreign_site)
    print(json.dumps(scores, indent=1))
    assert scores["hotel-es"]["spoken"] == "es" and scores["train-de"]["spoken"] == "de"
    assert scores["hotel-es"]["word_share"] >= 0.6 and scores["market-es"]["word_share"] >= 0.6
    assert scores["train-de"]["word_share"] >= 0.3  # Whisper base translates espeak German poorly
    # Analysed in English: the Spanish complaint is negative, the Spanish praise positive.
    assert scores["hotel-es"]["sentiment"] == "negative" and scores["market-es"]["sentiment"] == "positive"
    # An English paraphrase finds the Spanish moment first, among English videos too.
    assert scores["hotel-es"]["rank"] == 1 and scores["market-es"]["rank"] == 1

    for job in english:  # spoken in English already: no translating step
        assert job.status == Stage.COMPLETED and "translating" not in job.stage_times
        assert api.translation(job.id) is None

    [hit] = [h for h in api.search(quality.FOREIGN_CLIPS[1].query, limit=1)]
    assert hit.language == "en" and "market" in hit.translation.lower() and "frutas" in hit.text.lower()
    spoken_hit = api.search("frutas frescas", limit=1)[0]  # the original's words still find it
    assert spoken_hit.job_id == hit.job_id and spoken_hit.language == "es" and spoken_hit.keyword_match
    # asked in English, the answer quotes the translation and shows the words as spoken
    answer = api.ask("Was the hotel dirty?")
    assert answer.supported, answer
    cited = [c for c in answer.citations if c.original and "hotel" in c.original.lower()]
    assert cited and "hotel" in cited[0].text.lower() and cited[0].text != cited[0].original

    job = api.get_job(hit.job_id)
    assert {"transcribing", "translating", "analyzing"} <= set(job.stage_times)
    details = json.loads(empty_library.cli("show", job.id, "--json").stdout)
    transcript, translation = details["transcript"], details["translation"]
    assert transcript["language"] == "es" and "frutas" in transcript["text"].lower()
    assert translation["language"] == "en" and translation["source_language"] == "es"
    assert translation["engine"] == "faster-whisper:base:translate"
    assert [(s["start"], s["end"]) for s in translation["segments"]] == \
        [(s["start"], s["end"]) for s in transcript["segments"]]
    assert details["analysis"]["language"] == "es"  # the spoken language, though analysed in English

    translated = empty_library.cli("export", job.id, "--translation", "--format", "srt", "-o", "-")
    assert translated.returncode == 0 and "market" in translated.stdout.lower()
    assert "frutas" in empty_library.cli("export", job.id, "--format", "srt", "-o", "-").stdout.lower()
    name, content = api.export(job.id, "json", translated=True)
    assert name.endswith(".en.json") and set(json.loads(content)) >= {"transcript", "translation"}
    refused = empty_library.cli("export", english[0].id, "--translation")
    assert refused.returncode != 0 and "no translation" in refused.stderr

    port = free_port()  # the HTTP API gives the same
    server = subprocess.Popen([PYTHON, "-m", "core", "serve", "--port", str(port)], cwd=SCRATCH,
                              env=empty_library.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200, timeout=60, what="the API")
        served = httpx.get(f"{url}/jobs/{job.id}/transcript", params={"translation": "true"}).json()
        assert served["language"] == "en" and len(served["segments"]) == len(transcript["segments"])
        srt = httpx.get(f"{url}/jobs/{job.id}/transcript", params={"translation": "true", "format": "srt"})
        assert srt.status_code == 200 and "market" in srt.text.lower()
        assert httpx.get(f"{url}/jobs/{english[0].id}/transcript?translation=true").status_code == 409
        assert httpx.get(f"{url}/jobs/{job.id}", params={"details": "true"}).json()["translation"]["language"] == "en"
    finally:
        server.terminate()
        server.wait(30)


def test_translation_off_or_out_of_reach_keeps_videos_untranslated(foreign_site, empty_library, monkeypatch):
    monkeypatch.setenv("TRANSLATE_TO", "")
    job = run_now(f"{foreign_site}/hotel-es.mp4")
    assert job.status == Stage.COMPLETED and api.translation(job.id) is None
    assert "translating" not in job.stage_times
    # Offline, only English can be reached: a German target leaves videos as spoken rather than failing.
    monkeypatch.setenv("TRANSLATE_TO", "de")
    job = run_now(f"{foreign_site}/market-es.mp4")
    assert job.status == Stage.COMPLETED and api.translation(job.id) is None


def test_align_places_each_translated_sentence_on_the_segment_it_overlaps_most():
    original = [Segment(start=0, end=4, text="uno"), Segment(start=4.5, end=8, text="dos"),
                Segment(start=9, end=12, text="tres")]
    pieces = [Segment(start=0.2, end=3.9, text="One."), Segment(start=4.4, end=6, text="Two,"),
              Segment(start=6, end=8.2, text="still two."), Segment(start=8.1, end=8.5, text="Between.")]
    aligned = align(pieces, original)
    assert [(s.start, s.end) for s in aligned] == [(0, 4), (4.5, 8), (9, 12)]
    assert [s.text for s in aligned] == ["One.", "Two, still two. Between.", ""]


def test_hosted_translation_keeps_times_batches_and_retries(fake_openai, tmp_path):
    count = TRANSLATION_BATCH_SEGMENTS * 2 + 10
    transcript = Transcript(text="", language="es", engine="t", segments=[
        Segment(start=i * 2.0, end=i * 2.0 + 1.5, text=f"El mercado {i} de precios.") for i in range(count)])
    settings = Settings(openai_api_key=KEY, openai_base_url=fake_openai.base_url, data_dir=tmp_path,
                        openai_max_retries=2, openai_parallel_requests=1)
    fake_openai.fail_next("/v1/chat/completions", 429, headers={"Retry-After": "0"})
    fake_openai.skip_in_next_translation = {3}  # the model leaves a line out: it is asked for once more
    translation = OpenAITranslator(settings).translate(transcript, "en", None, 0.0, lambda *a: None)
    assert translation.language == "en" and translation.source_language == "es"
    assert [(s.start, s.end) for s in translation.segments] == [(s.start, s.end) for s in transcript.segments]
    assert translation.segments[3].text == "the market 3 of prices."
    chats = fake_openai.calls("/v1/chat/completions")
    assert len(chats) == 1 + 3 + 1  # the 429, three batches, and the line asked for again


def test_hosted_translation_in_the_pipeline_is_costed_and_resumes(foreign_site, empty_library, fake_openai,
                                                                   monkeypatch):
    for key, value in dict(OPENAI_API_KEY=KEY, OPENAI_BASE_URL=fake_openai.base_url, OPENAI_MAX_RETRIES="1",
                           TRANSCRIPTION_ENGINE="local", ANALYSIS_ENGINE="local", EMBEDDING_ENGINE="local",
                           TRANSLATION_ENGINE="openai").items():
        monkeypatch.setenv(key, value)
    fake_openai.fail_next("/v1/chat/completions", 500, times=2)  # an outage outlasting the retries
    failed = run_now(f"{foreign_site}/market-es.mp4")
    assert (failed.status, failed.stage) == (Stage.FAILED, Stage.TRANSLATING)
    assert "Retry resumes from translating" in failed.error
    transcribed_at = failed.stage_times["transcribing"]

    done = run_now(f"{foreign_site}/market-es.mp4")  # runs the failed job again, from its step
    assert done.status == Stage.COMPLETED and done.stage_times["transcribing"] == transcribed_at
    translation = api.translation(done.id)
    assert translation.engine == "openai:gpt-4.1-mini" and "fruits" in translation.text.lower()
    cost = api.job_details(done.id).cost
    assert cost["stages"]["translating"]["models"] == ["gpt-4.1-mini"]
    assert cost["stages"]["translating"]["input_tokens"] > 0
