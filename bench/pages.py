"""How fast every page is ready in a real browser, on a large library: 500 videos and 100,000 segments, one of
them a 1,200-segment talk.

    .venv/bin/python bench/pages.py [--videos 500] [--segments-per-video 200] [--long 1200]

Builds the library (random unit vectors: embedding 100,000 sentences would only slow the set-up), starts
Streamlit on it, and opens each page in headless Chromium (/usr/bin/chromium) twice: the first load pays
for starting the session and warming caches, the second is what a person moving around the app waits
for. A page is ready when its content is on screen and Streamlit has stopped running its script. The
baseline, measured in the same run, is an empty Streamlit page (the app's own start page, with no
library behind it), so the ratios mean the same on any machine.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import QUERIES, vocabulary  # noqa: E402
from testkit.services import start_streamlit  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CATEGORIES = ["food", "sports", "technology", "science", "travel", "health", "business", "music"]


def build_library(data_dir: Path, videos: int, per_video: int, long: int) -> str:
    """Fill a library; returns the id of the long video."""
    os.environ["DATA_DIR"] = str(data_dir)
    from core.config import get_settings
    from core.providers.embed import get_embedder
    from core.store import get_store
    from testkit.library import add_video

    store, embedder = get_store(), get_embedder(get_settings())
    rng, chooser = np.random.default_rng(7), random.Random(7)
    words, weights = vocabulary(chooser)

    def add(number: int, count: int) -> str:
        sentences = [" ".join(chooser.choices(words, weights, k=15)) for _ in range(count)]
        vectors = rng.standard_normal((count, embedder.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        job_id = add_video(store, embedder, video_id=f"page{number:07d}", title=f"Talk {number}", sentences=sentences,
                           platform=chooser.choice(["youtube", "vimeo", "tiktok"]),
                           category=chooser.choice(CATEGORIES),
                           sentiment=chooser.choice(["positive", "neutral", "negative"]),
                           upload_date=f"2026-{chooser.randint(1, 11):02d}-{chooser.randint(1, 28):02d}",
                           vectors=vectors)
        analysis = store.get_analysis(job_id)
        store.save_analysis(job_id, analysis.model_copy(update={
            "topics": chooser.sample(words[50:90], 5),
            "segment_sentiment": [round(chooser.uniform(-1, 1), 2) for _ in range(count)]}))
        return job_id

    long_id = add(0, long)
    for number in range(1, videos):
        add(number, per_video)
    return long_id


def start_app(data_dir: Path) -> tuple[subprocess.Popen, str]:
    return start_streamlit(os.environ | {"DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}, data_dir.parent)


def ready_after(page, action, ready) -> float:
    """Seconds from `action` until `ready` is visible and Streamlit's script has finished."""
    began = time.perf_counter()
    action()
    ready(page).first.wait_for(state="visible", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    return time.perf_counter() - began


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=500)
    parser.add_argument("--segments-per-video", type=int, default=200)
    parser.add_argument("--long", type=int, default=1200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty" / "data"
        empty.mkdir(parents=True)
        data_dir = Path(tmp) / "library" / "data"
        data_dir.mkdir(parents=True)
        began = time.perf_counter()
        long_id = build_library(data_dir, args.videos, args.segments_per_video, args.long)
        segments = (args.videos - 1) * args.segments_per_video + args.long
        print(f"built {args.videos} videos, {segments:,} segments in {time.perf_counter() - began:.0f} s")

        pages = {
            "Submit": ("/", lambda p: p.get_by_role("textbox", name="Video links")),
            "Library": ("/library", lambda p: p.get_by_text(f"Talk {args.videos - 1}", exact=True)),  # the newest
            "Dashboard": ("/dashboard", lambda p: p.locator(".js-plotly-plot").nth(9)),
            "Search": ("/search", None),
            f"Video ({args.long} segments)": (f"/video?job={long_id}", lambda p: p.get_by_text("Find in transcript")),
        }
        results: dict[str, list[float]] = {}
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            baseline_server, baseline_url = start_app(empty)
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})
            baseline = [ready_after(page, lambda: page.goto(baseline_url),
                                    lambda p: p.get_by_role("textbox", name="Video links")) for _ in range(3)]
            page.close()
            baseline_server.terminate()

            server, url = start_app(data_dir)
            try:
                for name, (path, ready) in pages.items():
                    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
                    if ready is None:  # Search: open the page, then type a query and wait for the hits
                        times = []
                        for number in range(2):
                            page.goto(url + path)
                            box = page.get_by_role("textbox", name="Search the library by meaning")
                            box.wait_for()
                            times.append(ready_after(page, lambda box=box, n=number: (box.fill(QUERIES[n]),
                                                                                       box.press("Enter")),
                                                     lambda p: p.get_by_text("Open at this moment")))
                    else:
                        times = [ready_after(page, lambda path=path, page=page: page.goto(url + path), ready)
                                 for _ in range(2)]
                    results[name] = times
                    page.close()
            finally:
                server.terminate()
                server.wait(15)
            chromium.close()

    base = min(baseline)
    print(f"\nbaseline: an empty app's start page, best of 3: {base:.2f} s\n")
    print(f"{'page':<26}{'first load':>12}{'then':>8}{'then / baseline':>17}  under 1 s")
    for name, (first, then) in results.items():
        print(f"{name:<26}{first:>11.2f}s{then:>7.2f}s{then / base:>16.1f}x  {'yes' if then < 1 else 'no'}")


if __name__ == "__main__":
    main()
