"""Playlists, channels and multi-video pages become collections: one job per video (listed by yt-dlp's flat
extraction, nothing downloaded to list them), deduped like pasted links, filtered everywhere."""

import json

import pytest
from streamlit.testing.v1 import AppTest

from core import api
from testkit import media
from tests.conftest import ROOT

TALKS = {"garden": "Tomatoes need six hours of sunshine on a rooftop garden.",
         "bread": "Knead the dough for ten minutes and let the bread rise overnight.",
         "bike": "Patch the inner tube, then pump the bicycle tyre to the right pressure."}


@pytest.fixture(scope="module")
def talks_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("collection-site")
    for name, text in TALKS.items():
        media.video_with_speech(text, site / f"{name}.mp4")
    videos = "".join(f'<video src="{name}.mp4"></video>' for name in TALKS)
    (site / "talks.html").write_text(f"<html><head><title>Weekend skills</title></head><body>{videos}</body></html>")
    (site / "more-talks.html").write_text(
        f"<html><head><title>More weekend skills</title></head><body>{videos}</body></html>")
    server, url = media.serve(site)
    yield url
    server.shutdown()


@pytest.fixture(scope="module")
def collection_jobs(library, talks_site):
    result = library.cli("submit", f"{talks_site}/talks.html", "--wait", "--json")
    assert result.returncode == 0, result.stderr + (library.data_dir / "worker.log").read_text()[-3000:]
    assert "Weekend skills: 3 videos, 3 new" in result.stderr
    return json.loads(result.stdout)


def test_a_multi_video_page_becomes_a_collection_of_jobs(library, collection_jobs):
    assert len(collection_jobs) == 3 and all(job["created"] for job in collection_jobs)
    assert all(job["status"] == "completed" for job in collection_jobs), [j["error"] for j in collection_jobs]
    [collection] = {json.dumps(job["collection"], sort_keys=True) for job in collection_jobs}
    collection = json.loads(collection)
    assert collection["title"] == "Weekend skills"
    listed = json.loads(library.cli("jobs", "--collection", collection["id"], "--json").stdout)
    assert {job["id"] for job in listed} == {job["id"] for job in collection_jobs}
    texts = {json.loads(library.cli("show", job["id"], "--json").stdout)["transcript"]["text"].lower()
             for job in collection_jobs}
    assert any("tomatoes" in t for t in texts) and any("dough" in t for t in texts)


def test_the_same_collection_again_adds_only_what_is_new(library, collection_jobs, talks_site):
    again = library.cli("submit", f"{talks_site}/talks.html", "--json")
    assert again.returncode == 0, again.stderr
    assert "Weekend skills: 3 videos, 0 new" in again.stderr
    assert {job["id"] for job in json.loads(again.stdout)} == {job["id"] for job in collection_jobs}
    assert not any(job["created"] for job in json.loads(again.stdout))


def test_the_limit_takes_the_first_videos_each_deduped_like_a_pasted_link(library, collection_jobs, talks_site):
    result = library.cli("submit", f"{talks_site}/more-talks.html", "--limit", "2", "--json")
    assert result.returncode == 0, result.stderr
    assert "More weekend skills: 2 videos, 0 new" in result.stderr  # the same two videos, already in the library
    submitted = json.loads(result.stdout)
    assert [job["id"] for job in submitted] == [job["id"] for job in collection_jobs[:2]]
    assert {job["collection"]["title"] for job in submitted} == {"Weekend skills"}  # a video keeps its first


def test_pages_filter_and_name_the_collection(library, collection_jobs, monkeypatch):
    library.use_here(monkeypatch)
    collection = collection_jobs[0]["collection"]
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("pages/library.py").run()
    assert not at.exception
    picker = next(m for m in at.multiselect if m.label == "Collection")
    picker.select(collection["id"]).run()
    assert not at.exception
    shown = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(shown) == 3, shown
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("pages/dashboard.py").run()
    next(m for m in at.multiselect if m.label == "Collection").select(collection["id"]).run()
    assert not at.exception
    assert next(m for m in at.metric if m.label == "Videos").value == "3"
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params["job"] = collection_jobs[0]["id"]
    at.switch_page("pages/video.py").run()
    assert any("Weekend skills" in c.value for c in at.caption)
    assert api.collections_of([api.get_job(collection_jobs[0]["id"])])[collection["id"]].title == "Weekend skills"
