"""Correcting transcripts: a line keeps its times and words take the times of those they replace, search and the
analysis follow at once, every correction is kept and undoable, a word misheard everywhere is replaced at once, two
editors never overwrite each other silently, and reprocessing never throws corrections away unasked."""

import json

import pytest
from fastapi.testclient import TestClient

from core import api
from core.library.corrections import retimed
from core.models import Word
from core.pipeline import run_now
from core.server import app as http_app
from testkit import media
from tests.conftest import ROOT, transcript_rows


def test_new_words_take_the_times_of_the_words_they_replace():
    words = [Word(start=0.0, end=0.4, text="Ada"), Word(start=0.5, end=1.0, text="loves"),
             Word(start=1.1, end=2.0, text="lavender")]
    fixed = retimed(words, "Ada Lovelace loves lavender", 0.0, 2.0)
    assert [(w.text, w.start, w.end) for w in fixed] == [("Ada", 0.0, 0.4), ("Lovelace", 0.4, 0.5),
                                                         ("loves", 0.5, 1.0), ("lavender", 1.1, 2.0)]
    fixed = retimed(words, "Ada loves Babbage's engine", 0.0, 2.0)
    assert [(w.text, w.start, w.end) for w in fixed][2:] == [("Babbage's", 1.1, 1.55), ("engine", 1.55, 2.0)]
    assert retimed(None, "no words were timed", 0.0, 1.0) is None


@pytest.fixture
def spoken(empty_library, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    media.video_with_speech("Welcome to the cooking show. Today we bake a chocolate cake with fresh strawberries. "
                            "Put the cake in the oven for forty minutes.", site / "cake.mp4")
    server, url = media.serve(site)
    try:
        job = run_now(f"{url}/cake.mp4")
    finally:
        server.shutdown()
    assert job.status.value == "completed", job.error
    return job


def line_with(job_id: str, word: str) -> int:
    return next(i for i, s in enumerate(api.transcript(job_id).segments) if word in s.text.lower())


def test_a_corrected_line_is_searched_exported_kept_and_undone(spoken, empty_library):
    index = line_with(spoken.id, "chocolate")
    before = api.transcript(spoken.id).segments[index]
    fixed = before.text.replace("chocolate", "Zanzibar chocolate")
    edit = api.edit_segment(spoken.id, index, fixed)
    assert edit.revision == 1 and edit.changes[0].before == before.text
    after = api.transcript(spoken.id).segments[index]
    assert (after.start, after.end, after.text) == (before.start, before.end, fixed)
    assert "Zanzibar" in [w.text for w in after.words]
    assert any(hit.job_id == spoken.id and "Zanzibar" in hit.text for hit in api.search("Zanzibar"))
    assert "Zanzibar" in api.export(spoken.id, "srt")[1]

    undone = api.undo(spoken.id)
    assert undone.revision == 2 and undone.undoes == 1 and undone.kind == "undo"
    assert api.transcript(spoken.id).segments[index].text == before.text
    assert not any("Zanzibar" in hit.text for hit in api.search("Zanzibar"))
    history = json.loads(empty_library.cli("edit", spoken.id, "--history", "--json").stdout)
    assert [(e["revision"], e["kind"], e["undone"]) for e in history] == [(1, "edit", True), (2, "undo", False)]


def test_a_word_misheard_everywhere_is_previewed_then_replaced_as_one_correction(spoken, empty_library):
    preview = empty_library.cli("edit", spoken.id, "--replace", "cake", "gateau")
    assert preview.returncode == 0 and "2 lines would change" in preview.stdout, preview.stdout
    assert "gateau" not in api.transcript(spoken.id).text
    applied = json.loads(empty_library.cli("edit", spoken.id, "--replace", "cake", "gateau", "--apply",
                                           "--json").stdout)
    assert applied["kind"] == "replace" and len(applied["changes"]) == 2
    assert api.transcript(spoken.id).text.lower().count("gateau") == 2
    assert json.loads(empty_library.cli("edit", spoken.id, "--undo", "--json").stdout)["undoes"] == 1
    assert "gateau" not in api.transcript(spoken.id).text.lower()


def test_two_editors_at_once_and_bad_corrections_change_nothing(spoken, empty_library):
    client = TestClient(http_app)
    index = line_with(spoken.id, "oven")
    first = client.patch(f"/jobs/{spoken.id}/segments/{index}", json={"text": "Put the cake in the hot oven.",
                                                                      "base_revision": 0})
    assert first.status_code == 200 and first.json()["revision"] == 1
    second = client.patch(f"/jobs/{spoken.id}/segments/{index}", json={"text": "Bake it in the oven.",
                                                                       "base_revision": 0})
    assert second.status_code == 409 and "corrected meanwhile" in second.json()["error"]
    assert api.transcript(spoken.id).segments[index].text == "Put the cake in the hot oven."
    result = empty_library.cli("edit", spoken.id, str(index), "Stale.", "--base-revision", "0")
    assert result.returncode == 1 and "corrected meanwhile" in result.stderr

    lines = len(api.transcript(spoken.id).segments)
    for args, message in (([str(lines), "x"], "no line"), ([str(index), ""], "empty"),
                          ([str(index), "y" * 5001], "5,000 characters")):
        result = empty_library.cli("edit", spoken.id, *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    assert client.patch(f"/jobs/{spoken.id}/segments/{lines}", json={"text": "x"}).status_code == 400
    assert client.patch("/jobs/nosuchjob/segments/0", json={"text": "x"}).status_code == 404
    assert [e["revision"] for e in client.get(f"/jobs/{spoken.id}/edits").json()] == [1]

    refused = empty_library.cli("reprocess", spoken.id)
    assert refused.returncode == 2 and "1 correction" in refused.stderr
    assert client.post(f"/jobs/{spoken.id}/reprocess").status_code == 409
    assert api.transcript(spoken.id).segments[index].text == "Put the cake in the hot oven."


def test_a_line_is_corrected_and_undone_on_the_video_page(spoken):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params["job"] = spoken.id
    at.switch_page("pages/video.py").run()
    index = line_with(spoken.id, "strawberries")
    [row] = [row for row in transcript_rows(at) if row["index"] == index]
    assert row["editable"] and row["text"] == api.transcript(spoken.id).segments[index].text
    # what the line's ✏️ and Save do in the browser: the element hands the corrected text to the page
    at.session_state[f"lines-{spoken.id}"] = {"save": {"index": index,
                                                        "text": row["text"].replace("strawberries", "raspberries")}}
    at.run()
    assert not at.exception
    assert "raspberries" in api.transcript(spoken.id).segments[index].text
    at.session_state[f"lines-{spoken.id}"] = {"save": None}  # a trigger: the browser sends it once
    assert any("Revision 1" in str(c.value) for c in at.caption)
    [undo] = [b for b in at.button if b.label == "Undo"]
    undo.click().run()
    assert "strawberries" in api.transcript(spoken.id).segments[index].text


def test_speech_to_text_is_told_the_words_to_expect_and_the_transcript_says_so(empty_library, tmp_path, monkeypatch):
    monkeypatch.setenv("VOCABULARY", "Zanzibar, Ada Lovelace, zanzibar")
    site = tmp_path / "site"
    site.mkdir()
    media.video_with_speech("Ada Lovelace wrote about the engine in Zanzibar.", site / "names.mp4")
    server, url = media.serve(site)
    try:
        job = run_now(f"{url}/names.mp4")
    finally:
        server.shutdown()
    transcript = json.loads(empty_library.cli("show", job.id, "--json").stdout)["transcript"]
    assert transcript["vocabulary"] == ["Zanzibar", "Ada Lovelace"]
    assert transcript["prompt"] == "Zanzibar, Ada Lovelace." and transcript["engine"] == "faster-whisper:base"


def test_a_collections_vocabulary_is_kept_within_what_the_prompt_holds(empty_library):
    from core.store import get_store

    collection = get_store().save_collection(url="https://example.com/talks", platform="generic",
                                             source_id="talks", title="Talks")
    assert api.set_vocabulary(collection.id, "Babbage, Analytical Engine") == ["Babbage", "Analytical Engine"]
    assert api.set_vocabulary(collection.id, "Lovelace, babbage", add=True) == ["Babbage", "Analytical Engine",
                                                                                 "Lovelace"]
    too_many = ", ".join(f"Name{n} Surname{n}" for n in range(200))
    result = empty_library.cli("vocabulary", collection.id, "--set", too_many)
    assert result.returncode == 2 and "of them fill" in result.stderr, result.stderr
    assert api.vocabulary(collection.id) == ["Babbage", "Analytical Engine", "Lovelace"]  # unchanged
    assert json.loads(empty_library.cli("vocabulary", collection.id, "--json").stdout) == api.vocabulary(collection.id)


def test_the_video_page_previews_a_replacement_then_applies_it(spoken):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params["job"] = spoken.id
    at.switch_page("pages/video.py").run()
    [old] = [box for box in at.text_input if box.key == "replace-old"]
    [new] = [box for box in at.text_input if box.key == "replace-new"]
    new.input("gateau")
    old.input("cake").run()
    assert any("2 lines would change" in str(c.value) for c in at.caption)
    assert "gateau" not in api.transcript(spoken.id).text  # only shown so far
    [apply] = [b for b in at.button if b.key == "replace-apply"]
    apply.click().run()
    assert not at.exception
    assert api.transcript(spoken.id).text.lower().count("gateau") == 2
    assert api.edit_history(spoken.id)[-1].kind == "replace"
