"""Asking the library: answers that cite the moments they come from, offline from real pipeline runs on spoken
clips, and written by a model (the local OpenAI-compatible stand-in), whose citations are checked."""

import json

import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from core import api
from core.config import get_settings
from core.models import AskTurn, SearchFilters
from core.providers.embed import get_embedder
from core.server import app as http_app
from core.store import get_store
from testkit import media
from testkit.fake_openai import FakeOpenAI
from testkit.library import add_video
from tests.conftest import ROOT

CLIPS = {
    "battery": "I have used this laptop for a month. The battery lasts all day on one charge. The screen is bright "
               "and sharp.",
    "onions": "Tonight we cook pasta with tomato sauce. Let the onions soften slowly in olive oil before you add "
              "the tomatoes.",
    "stars": "Stars are born inside huge clouds of gas and dust. Gravity pulls the material together until the core "
             "is hot enough for fusion.",
}
KEY = "sk-test-ask-000000000000"


@pytest.fixture(scope="module")
def spoken_clips(library, tmp_path_factory):
    """The clips, through the real queue, worker, yt-dlp, ffmpeg and offline engines."""
    site = tmp_path_factory.mktemp("ask-site")
    for name, text in CLIPS.items():
        media.video_with_speech(text, site / f"{name}.mp4")
    server, url = media.serve(site)
    result = library.cli("submit", *(f"{url}/{name}.mp4" for name in CLIPS), "--wait", "--json")
    server.shutdown()
    assert result.returncode == 0, result.stderr + (library.data_dir / "worker.log").read_text()[-3000:]
    jobs = {job["title"]: job for job in json.loads(result.stdout)}
    assert all(job["status"] == "completed" for job in jobs.values()), jobs
    return {name: job["id"] for name, job in jobs.items()}


def ask(library, *args):
    result = library.cli("ask", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_an_offline_answer_quotes_the_sentence_that_answers_and_cites_its_moment(library, spoken_clips):
    answer = ask(library, "How long does the laptop battery last?")
    assert answer["supported"] is True and answer["engine"] == "local:extractive"
    [cited] = [c for c in answer["citations"] if "battery" in c["text"].lower()]
    assert set(cited) >= {"job_id", "video_id", "title", "start", "end", "text", "url"}
    assert cited["job_id"] == spoken_clips["battery"] and "all day" in cited["text"].lower()
    assert f"{cited['text']} [0:0" in answer["answer"]  # quoted, with its time
    assert cited["end"] > cited["start"] >= 0 and cited["url"].startswith("http://127.0.0.1")
    assert [c["number"] for c in answer["citations"]] == list(range(1, len(answer["citations"]) + 1))

    answer = ask(library, "What should I do with the onions?")
    assert any(c["job_id"] == spoken_clips["onions"] and "olive oil" in c["text"].lower()
               for c in answer["citations"])


def test_a_question_the_library_does_not_answer_says_so_without_citations(library, spoken_clips):
    answer = ask(library, "How do I repair a leaking kitchen tap?")
    assert answer["supported"] is False and answer["citations"] == []
    assert "does not cover" in answer["answer"]


def test_a_question_asked_of_one_video_cites_only_that_video(library, spoken_clips):
    answer = ask(library, "How are stars born?", "--video", spoken_clips["stars"])
    assert answer["supported"] and {c["job_id"] for c in answer["citations"]} == {spoken_clips["stars"]}
    elsewhere = ask(library, "How long does the battery last?", "--video", spoken_clips["stars"])
    assert elsewhere["supported"] is False and "in this video" in elsewhere["answer"]


def test_bad_questions_get_a_clear_message(library, spoken_clips):
    for args, message in ((["   "], "empty"), (["x" * 1001], "up to 1,000 characters"),
                          (["Why?", "--video", "nosuchjob"], "no video 'nosuchjob'"),
                          (["Why?", "--limit", "0"], "1 to 20 moments")):
        result = library.cli("ask", *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)


@pytest.fixture
def talks(empty_library):
    store, embedder = get_store(), get_embedder(get_settings())
    return {
        "garden": add_video(store, embedder, video_id="garden00001", title="Rooftop gardens", sentences=[
            "Welcome back to my rooftop garden.", "Tomatoes need at least six hours of direct sunshine every day.",
            "I water the beds early in the morning. That way the leaves dry before noon.",
            "The whole garden cost me about four hundred dollars to build."]),
        "japan": add_video(store, embedder, video_id="japan000001", title="Two weeks in Japan", sentences=[
            "We flew into Tokyo and spent the first week in the city.",
            "The rail pass paid for itself after two bullet train trips.",
            "The whole trip cost us about three thousand dollars each."]),
        "hotel": add_video(store, embedder, video_id="hotel000001", title="Hotel review", language="es", sentences=[
            "El hotel estaba muy sucio.", "La comida del restaurante estaba fría."], translation=[
            "The hotel was very dirty.", "The food in the restaurant was cold."]),
    }


def test_the_http_api_answers_and_refuses_clearly(talks):
    client = TestClient(http_app)
    answer = client.post("/ask", json={"question": "How much sun do tomatoes need?"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["supported"] and body["citations"][0]["job_id"] == talks["garden"]
    assert body["citations"][0]["start"] == 5.0 and "six hours" in body["answer"]

    scoped = client.post("/ask", json={"question": "How much did it cost?", "job_id": talks["japan"]}).json()
    assert [c["job_id"] for c in scoped["citations"]] == [talks["japan"]] and "three thousand" in scoped["answer"]
    # a follow-up is read with the question before it: "it" is the trip
    follow_up = client.post("/ask", json={"question": "How much did it cost?", "history": [
        {"question": "Tell me about the holiday in Japan", "answer": None}]}).json()
    assert "three thousand" in follow_up["answer"] and "four hundred" not in follow_up["answer"]

    for body, status, message in (({"question": " "}, 400, "empty"), ({"question": "x" * 1001}, 400, "1000"),
                                  ({"question": "Why?", "job_id": "nosuchjob"}, 404, "no video"),
                                  ({"question": "Why?", "collection": "0123456789ab"}, 404, "no collection"),
                                  ({"question": "Why?", "speed": 1}, 400, "speed")):
        refused = client.post("/ask", json=body)
        assert refused.status_code == status and message in refused.json()["error"], (body, refused.text)


def test_an_english_question_cites_a_translated_video_with_its_original_words(talks):
    answer = api.ask("Was the hotel clean?")
    assert answer.supported
    [cited] = [c for c in answer.citations if c.job_id == talks["hotel"]]
    assert cited.text == "The hotel was very dirty." and cited.original == "El hotel estaba muy sucio."


def test_an_empty_library_and_a_video_still_processing_are_told_so(empty_library):
    answer = api.ask("What is in the library?")
    assert not answer.supported and "no processed videos in the library yet" in answer.answer
    store = get_store()
    job = store.create_job(url="https://example.com/talk.mp4", platform="generic", extractor="Generic",
                           video_id="talk")
    answer = api.ask("What is it about?", filters=SearchFilters(job_ids=[job.id]))
    assert not answer.supported and "is not processed yet (pending)" in answer.answer


@pytest.fixture
def model(talks, monkeypatch):
    fake = FakeOpenAI()
    for name, value in (("OPENAI_API_KEY", KEY), ("OPENAI_BASE_URL", fake.base_url), ("ASK_ENGINE", "openai"),
                        ("EMBEDDING_ENGINE", "local"), ("OPENAI_MAX_RETRIES", "1")):
        monkeypatch.setenv(name, value)
    yield fake
    fake.close()


def test_a_written_answer_streams_and_cites_only_moments_it_was_given(model, talks):
    events = list(api.ask_stream("How much sun do tomatoes need?"))
    *pieces, answer = events
    assert len(pieces) > 1 and all(isinstance(piece, str) for piece in pieces)  # streamed as it was written
    assert answer.supported and answer.engine == "openai:gpt-4.1-mini"
    assert answer.citations[0].job_id == talks["garden"] and "[1]" in answer.answer
    assert answer.usage.input_tokens > 0 and answer.usage.cost_usd > 0
    before = api.library_costs().get("ask", {"usd": 0.0, "calls": 0})  # the library's ledger keeps it
    assert before["calls"] >= 1 and before["usd"] >= answer.usage.cost_usd
    [call] = model.calls("/v1/chat/completions")
    assert "[1] “Rooftop gardens”" in call["prompt"] and call["prompt"].endswith("How much sun do tomatoes need?")

    # a moment it was not given is dropped; the others are numbered as the citations are listed
    model.answer_with = lambda prompt: "Six hours of sun [3][99], and watering in the morning [7]."
    answer = api.ask("How much sun do tomatoes need?")
    assert "[99]" not in answer.answer and answer.answer.count("[") == 2
    assert [c.number for c in answer.citations] == [1, 2] and answer.answer.startswith("Six hours of sun [1]")

    for written in ("Six hours of sun.", "Six hours [42].", "NOT_COVERED"):  # nothing real cited
        model.answer_with = lambda prompt, written=written: written
        answer = api.ask("How much sun do tomatoes need?")
        assert not answer.supported and answer.citations == [] and "does not cover" in answer.answer


def test_a_follow_up_sends_the_conversation_to_the_model(model, talks):
    api.ask("How much did it cost?", history=[AskTurn(question="Tell me about Japan", answer="A trip [1].")])
    messages = model.calls("/v1/chat/completions")[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "Tell me about Japan" and "three thousand" in messages[3]["content"]


def test_a_failing_model_is_a_clear_error(model, talks):
    model.fail_next("/v1/chat/completions", 401)
    with pytest.raises(api.EngineError, match="rejected the API key"):
        api.ask("How much sun do tomatoes need?")
    model.fail_next("/v1/chat/completions", 503, times=2)
    refused = TestClient(http_app).post(
        "/ask", json={"question": "How much sun do tomatoes need?"})
    assert refused.status_code == 503 and refused.headers["retry-after"] and "503" in refused.json()["error"]
    model.answer_with = None
    assert api.ask("How much sun do tomatoes need?", filters=SearchFilters(job_ids=[talks["garden"]])).supported


def test_the_ask_page_keeps_the_conversation_and_opens_each_moment(talks):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("pages/ask.py").run()
    assert not at.exception
    at.chat_input[0].set_value("How much sun do tomatoes need?").run()
    assert not at.exception
    shown = "\n".join(str(e.value) for e in at.markdown)
    assert "six hours" in shown and "Rooftop gardens" in shown
    at.chat_input[0].set_value("How do I fix a bicycle chain?").run()
    assert "does not cover" in "\n".join(str(e.value) for e in at.info)
    assert "six hours" in "\n".join(str(e.value) for e in at.markdown)  # the first answer is still there



def test_the_ask_pages_filters_are_drawn_when_opened_and_stay_in_force_when_closed(talks):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("pages/ask.py").run()
    assert not at.multiselect and not at.slider and not at.date_input  # a closed box draws none of its widgets
    at.query_params["ask-filters"] = "true"  # opened
    at.run()
    assert [box.label for box in at.multiselect] == ["Platform", "Category", "Theme", "Said by"]
    at.slider[0].set_value(1).run()  # "Moments cited, at most"
    at.query_params["ask-filters"] = "false"
    at.session_state["ask-filters"] = False  # closed again
    at.run()
    assert not at.slider
    at.chat_input[0].set_value("How much did it cost?").run()
    cited = [str(m.value) for m in at.markdown if str(m.value).startswith("**[")]
    assert len(cited) == 1, cited


def test_a_video_page_answers_questions_about_that_video_only(talks):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params["job"] = talks["japan"]
    at.switch_page("pages/video.py").run()
    at.session_state["tab"] = "💬 Ask this video"
    at.run()
    assert not at.exception
    at.chat_input[0].set_value("How much did it cost?").run()
    shown = "\n".join(str(e.value) for e in at.markdown)
    assert "three thousand" in shown and "four hundred" not in shown
