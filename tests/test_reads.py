"""Reads that do not grow with the library: a page, a listing or a search makes the same number of store
calls for 3 videos as for 12 (counted on the Supabase fake, where each call is an HTTP round trip)."""

import pytest
from streamlit.testing.v1 import AppTest

from core import api
from core.config import get_settings
from core.models import AudioFile
from core.providers.embed import get_embedder
from core.store import get_store
from testkit.library import add_video
from tests.conftest import ROOT, use_supabase

TOPICS = ["rooftop gardens and tomatoes", "baking bread at home", "repairing an old bicycle",
          "saving money on groceries"]


def add_videos(count: int, start: int) -> list[str]:
    store, embedder = get_store(), get_embedder(get_settings())
    ids = []
    for n in range(start, start + count):
        topic = TOPICS[n % len(TOPICS)]
        job_id = add_video(store, embedder, video_id=f"video{n:06d}", title=f"Video {n} about {topic}",
                           sentences=[f"This video is about {topic}.", f"Number {n} explains {topic} step by step."])
        store.save_audio_file(AudioFile(job_id=job_id, audio_path=f"temp-audio/{job_id}/audio.mp3",
                                        thumbnail_path=f"thumbnails/{job_id}/thumbnail.jpg", duration=10.0,
                                        size_bytes=1000, sample_rate=22050))
        ids.append(job_id)
    return ids


def calls_to_render(project, page: str, params: dict | None = None, tracked: list[str] | None = None,
                    search: str | None = None) -> int:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.session_state["tracked_jobs"] = list(tracked or [])
    for key, value in (params or {}).items():
        at.query_params[key] = value
    project.requests.clear()
    at.switch_page(page).run()
    if search:
        at.text_input[0].input(search).run()
    assert not at.exception, at.exception
    return len(project.calls("/rest/v1/")) + len(project.calls("/storage/v1/"))


def count_everything(project, ids: list[str]) -> dict[str, int]:
    counts = {
        "submit": calls_to_render(project, "pages/submit.py", tracked=ids),
        "library": calls_to_render(project, "pages/library.py"),
        "dashboard": calls_to_render(project, "pages/dashboard.py"),
        "search page": calls_to_render(project, "pages/search.py", search="how to grow tomatoes"),
        "video": calls_to_render(project, "pages/video.py", params={"job": ids[0]}),
    }
    project.requests.clear()
    api.list_jobs()
    counts["list jobs"] = len(project.calls("/rest/v1/"))
    project.requests.clear()
    assert len(api.search("bread", limit=50)) >= 3
    counts["search"] = len(project.calls("/rest/v1/"))
    return counts


@pytest.mark.timeout(900)
def test_store_calls_do_not_grow_with_the_library(supabase_project, empty_library, monkeypatch):
    use_supabase(supabase_project, empty_library.env, monkeypatch)
    ids = add_videos(3, 0)
    small = count_everything(supabase_project, ids)
    ids += add_videos(9, 3)
    large = count_everything(supabase_project, ids)
    assert small == large, (small, large)
    assert all(count <= 12 for count in large.values()), large
