"""Chapters: the creator's (from the media file, through the real pipeline), or found where a long talk changes
subject; in the job's JSON, the exports, search hits, answers and the video's page."""

import json

import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from core import api
from core.config import get_settings
from core.library.chapters import creator_chapters, generated_chapters
from core.models import Segment
from core.pipeline import run_now
from core.providers.embed import get_embedder
from core.server import app as http_app
from testkit import media
from tests.conftest import ROOT

PARTS = {
    "garden": ["Tomatoes need six hours of sunshine in the garden.", "Water the plants early in the morning.",
               "Compost makes the soil rich and dark.", "Sow the seeds in trays before the last frost.",
               "Slugs love young lettuce leaves in the beds.", "Mulch keeps the weeds down and the soil moist."],
    "football": ["The striker scored twice in the second half.", "The goalkeeper saved a penalty at the end.",
                 "The team climbed to third place in the league.", "The fans sang through the whole match.",
                 "The referee showed two red cards in the derby.", "The coach changed the formation at half time."],
    "money": ["Shares fell after the earnings report.", "The central bank raised interest rates again.",
              "Investors moved money into government bonds.", "Inflation slowed for the third month.",
              "Index funds keep costs low for investors.", "Pay off expensive debt before investing."],
}


def talk(subjects: list[str], seconds_each: float = 120.0) -> list[Segment]:
    segments, t = [], 0.0
    for subject in subjects:
        pool = PARTS[subject]
        for number in range(int(seconds_each // 5)):
            segments.append(Segment(start=t, end=t + 4.7, text=pool[number % len(pool)]))
            t += 5.0
    return segments


def test_a_talk_is_cut_where_its_subject_changes_and_each_part_is_titled():
    segments = talk(["garden", "football", "money"])
    vectors = get_embedder(get_settings()).embed([s.text for s in segments])
    found = generated_chapters(segments, vectors, segments[-1].end)
    assert [c.start for c in found] == [0.0, 120.0, 240.0] and found[-1].end == segments[-1].end
    assert all(c.source == "generated" and c.title and c.summary for c in found)
    words = [c.title.lower() for c in found]
    assert any(w in words[0] for w in ("tomato", "garden", "soil", "seed", "slug", "mulch", "compost", "water"))
    one_subject = talk(["garden"], 360.0)
    assert generated_chapters(one_subject, get_embedder(get_settings()).embed([s.text for s in one_subject]),
                              360.0) == []


def test_the_creators_chapters_are_kept_in_order_and_closed():
    found = creator_chapters([{"start_time": 30, "end_time": None, "title": "Second"},
                              {"start_time": 0, "end_time": 30, "title": ""}], duration=90)
    assert [(c.start, c.end, c.title) for c in found] == [(0, 30, "Chapter 1"), (30, 90, "Second")]
    assert creator_chapters([{"start_time": 0, "end_time": 90, "title": "All"}], 90) == []  # one is no chapters


@pytest.fixture(scope="module")
def chaptered_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("chapters-site")
    plain = media.video_with_speech("Welcome to the kitchen. Today we bake a chocolate cake with fresh strawberries "
                                    "and cream.", site / "plain.mp4")
    media.with_chapters(plain, site / "cake.mp4", [(0, 1.5, "Welcome"), (1.5, 9, "The chocolate cake")])
    server, url = media.serve(site)
    yield url
    server.shutdown()


def test_the_chapters_in_a_media_file_reach_every_face(chaptered_site, empty_library):
    job = run_now(f"{chaptered_site}/cake.mp4")
    assert [(c.title, c.source) for c in job.chapters] == [("Welcome", "creator"), ("The chocolate cake", "creator")]
    shown = json.loads(empty_library.cli("show", job.id, "--json").stdout)
    assert [c["title"] for c in shown["chapters"]] == ["Welcome", "The chocolate cake"]
    assert set(shown["chapters"][0]) == {"start", "end", "title", "source", "summary"}
    assert TestClient(http_app).get(f"/jobs/{job.id}").json()["chapters"] == shown["chapters"]

    name, vtt = api.export(job.id, "chapters")
    assert name.endswith(".chapters.vtt") and "00:00:01.500 --> 00:00:09.000\nThe chocolate cake" in vtt
    assert "### The chocolate cake" in api.export(job.id, "md")[1]
    assert "The chocolate cake [0:01]" in api.export(job.id, "txt")[1]
    assert json.loads(api.export(job.id, "json")[1])["job"]["chapters"][1]["title"] == "The chocolate cake"
    cake = [hit for hit in api.search("baking a dessert") if hit.job_id == job.id]
    assert cake and cake[0].chapter in ("Welcome", "The chocolate cake")

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params["job"] = job.id
    at.switch_page("pages/video.py").run()
    assert not at.exception
    assert any("The chocolate cake" in str(m.value) for m in at.markdown)
    [button] = [b for b in at.button if b.key == "chapter-1"]
    button.click().run()
    assert at.session_state[f"seek-{job.id}"] == 1.5


def test_a_video_without_chapters_says_so_when_asked_for_them(chaptered_site, empty_library):
    job = run_now(f"{chaptered_site}/plain.mp4")
    assert job.chapters == []
    result = empty_library.cli("export", job.id, "--format", "chapters", "-o", "-")
    assert result.returncode == 2 and "has no chapters" in result.stderr
    answer = TestClient(http_app).get(f"/jobs/{job.id}/transcript", params={"format": "chapters"})
    assert answer.status_code == 409


def test_a_long_spoken_talk_gets_chapters_where_it_changes_subject(empty_library, tmp_path, monkeypatch):
    """The real pipeline on four and a half minutes of speech about three subjects in turn."""
    monkeypatch.setenv("CHAPTERS_MIN_SECONDS", "120")
    site = tmp_path / "site"
    site.mkdir()
    parts = [" ".join(PARTS[subject] * 5) for subject in ("garden", "football", "money")]
    changes = media.video_with_spoken_parts(parts, site / "three-parts.mp4")
    server, url = media.serve(site)
    try:
        job = run_now(f"{url}/three-parts.mp4")
    finally:
        server.shutdown()
    assert [c.source for c in job.chapters] == ["generated"] * 3, job.chapters
    for chapter, change in zip(job.chapters[1:], changes, strict=True):
        assert abs(chapter.start - change) <= 10, (chapter, changes)
    assert job.chapters[0].start == 0 and job.chapters[-1].end >= job.duration - 1


def test_with_a_key_the_hosted_model_titles_the_chapters(tmp_path):
    from core.config import Settings
    from core.providers.hosted import chapter_titles
    from testkit.fake_openai import FakeOpenAI

    fake = FakeOpenAI()
    try:
        settings = Settings(openai_api_key="sk-test-chapters-000000000", openai_base_url=fake.base_url,
                            data_dir=tmp_path)
        segments = talk(["garden", "football", "money"])
        vectors = get_embedder(get_settings()).embed([s.text for s in segments])
        found = generated_chapters(segments, vectors, segments[-1].end, lambda texts: chapter_titles(settings, texts))
        assert [c.title for c in found] == ["About Tomatoes need", "About The striker", "About Shares fell"]
        [call] = fake.calls("/v1/chat/completions")
        assert call["prompt"].startswith("[0] Tomatoes need six hours")
    finally:
        fake.close()
