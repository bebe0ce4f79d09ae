"""Page cost on a shared library: store calls and time per page render, the library in a Supabase project.

    .venv/bin/python bench/page_render.py [--videos 200]

The project is the local stand-in (testkit/fake_supabase.py: Supabase's REST API and Storage over HTTP,
in front of a real Postgres + pgvector), so each store call is a real HTTP round trip. Every page is
rendered with Streamlit's AppTest, three times after one warm-up; the baseline, measured in the same
run, is one bare REST call (get_job), so the ratios compare across machines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Not bench/ itself: its pages.py would hide the app's pages/ (a folder without __init__.py) from the pages' imports.
sys.path[:] = [str(ROOT)] + [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]

TOPICS = ["rooftop gardens and tomatoes", "baking bread at home", "repairing an old bicycle",
          "saving money on groceries", "training for a marathon", "learning to play the piano"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=200)
    args = parser.parse_args()
    from streamlit.testing.v1 import AppTest

    from testkit.services import start_postgres

    tmp = Path(tempfile.mkdtemp(prefix="vis-pages-"))
    server = start_postgres(tmp / "pg")
    from testkit.fake_supabase import supabase_project_on

    project = supabase_project_on(server, tmp / "storage")
    os.environ.update(DATA_DIR=str(tmp / "data"), SUPABASE_URL=project.url,
                      SUPABASE_SERVICE_ROLE_KEY=project.service_key, SUPABASE_ANON_KEY=project.anon_key)
    os.chdir(tmp)
    from core.config import get_settings
    from core.models import AudioFile
    from core.providers.embed import get_embedder
    from core.store import get_store
    from testkit.library import add_video

    store, embedder = get_store(), get_embedder(get_settings())
    started = time.perf_counter()
    ids = []
    for n in range(args.videos):
        topic = TOPICS[n % len(TOPICS)]
        job_id = add_video(store, embedder, video_id=f"v{n:09d}", title=f"Video {n} about {topic}",
                           sentences=[f"This video is about {topic}.", f"Part {n} explains {topic} step by step.",
                                      f"The end of video {n}."])
        store.save_audio_file(AudioFile(job_id=job_id, audio_path=f"temp-audio/{job_id}/audio.mp3",
                                        thumbnail_path=f"thumbnails/{job_id}/thumbnail.jpg", duration=15.0,
                                        size_bytes=1000, sample_rate=22050))
        ids.append(job_id)
    print(f"library of {args.videos} videos built in {time.perf_counter() - started:.0f} s\n")

    round_trips = []
    for _ in range(20):
        started = time.perf_counter()
        store.get_job(ids[0])
        round_trips.append(time.perf_counter() - started)
    baseline = statistics.median(round_trips)

    pages = {
        "Submit (20 tracked jobs)": ("pages/submit.py", {}, ids[:20], None),
        "Library": ("pages/library.py", {}, [], None),
        "Dashboard": ("pages/dashboard.py", {}, [], None),
        "Search": ("pages/search.py", {}, [], "how to grow tomatoes on a roof"),
        "Video": ("pages/video.py", {"job": ids[0]}, [], None),
    }
    print(f"{'page':<26}{'store calls':>12}{'ms per render':>16}{'x one REST call':>18}")
    for name, (page, params, tracked, query) in pages.items():
        timings, calls = [], 0
        for attempt in range(4):
            at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
            at.session_state["tracked_jobs"] = list(tracked)
            for key, value in params.items():
                at.query_params[key] = value
            project.requests.clear()
            started = time.perf_counter()
            at.switch_page(page).run()
            if query:
                at.text_input[0].input(query).run()
            elapsed = time.perf_counter() - started
            if at.exception:
                raise RuntimeError(f"{name}: {at.exception}")
            if attempt:  # the first render warms caches and imports
                timings.append(elapsed)
                calls = len(project.calls("/rest/v1/")) + len(project.calls("/storage/v1/"))
        render = statistics.median(timings)
        print(f"{name:<26}{calls:>12}{render * 1000:>16.0f}{render / baseline:>18.0f}")
    print(f"\nbaseline: one REST call (get_job) {baseline * 1000:.1f} ms")
    project.close()
    server.cleanup()


if __name__ == "__main__":
    main()
