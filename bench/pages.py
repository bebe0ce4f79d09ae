"""How fast every page is ready in a real browser, on a large library: 500 videos and 100,000 segments, one of
them a 1,200-segment talk.

    .venv/bin/python bench/pages.py [--videos 500] [--segments-per-video 200] [--long 1200]

Builds the library (random unit vectors: embedding 100,000 sentences would only slow the set-up), starts
Streamlit on it, and times each page in headless Chromium (/usr/bin/chromium) two ways:
- loaded by its address, twice: the first load pays for starting the session and warming caches, the
  second for the browser parsing Streamlit's and plotly's JavaScript again;
- reached inside the app after the first load, as a person moves around: the sidebar's links, a video
  opened from the Library, a query typed into Search (five rounds: the median, and the slowest).
A page is ready when its content is on screen and Streamlit has stopped running its script. The
baseline, measured in the same run, is an empty Streamlit page (the app's own start page, with no
library behind it), so the ratios mean the same on any machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.search import QUERIES, sentences, unit_vectors, vocabulary  # noqa: E402
from testkit.services import start_streamlit  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IN_APP_ROUNDS = 5
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
        said = sentences(chooser, words, weights, count)
        vectors = unit_vectors(rng, count, embedder.dim)
        job_id = add_video(store, embedder, video_id=f"page{number:07d}", title=f"Talk {number}", sentences=said,
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

    for number in range(videos - 1):
        add(number, per_video)
    return add(videos - 1, long)  # the newest, so the Library's first card opens it


def start_app(data_dir: Path) -> tuple[subprocess.Popen, str]:
    return start_streamlit(os.environ | {"DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}, data_dir.parent)


def ready_after(page, action, ready, path: str | None = None) -> float:
    """Seconds from `action` until the address shows `path` (when given), `ready` is visible and Streamlit's
    script has finished."""
    began = time.perf_counter()
    action()
    if path is not None:
        page.wait_for_url(lambda address: address.split("?")[0].rstrip("/").endswith(path), timeout=60_000)
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

        newest = f"Talk {args.videos - 1}"
        # Each page: its address, and what shows it is ready. The Dashboard draws the open tab's 2 charts.
        pages = {
            "Submit": ("/", lambda p: p.get_by_role("textbox", name="Video links")),
            "Library": ("/library", lambda p: p.get_by_text(newest, exact=True)),
            "Dashboard": ("/dashboard", lambda p: p.locator(".js-plotly-plot").nth(1)),
            "Search": ("/search", lambda p: p.get_by_role("textbox", name="Search the library by meaning")),
            "Search with a query": ("/search", lambda p: p.get_by_text("Open at this moment")),
            f"Video ({args.long} segments)": ("/video", lambda p: p.get_by_text("Find in transcript")),
        }
        reloaded: dict[str, list[float]] = {}
        in_app: dict[str, list[float]] = {name: [] for name in pages}
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            baseline_server, baseline_url = start_app(empty)
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})
            baseline = [ready_after(page, lambda: page.goto(baseline_url), pages["Submit"][1]) for _ in range(3)]
            page.close()
            baseline_server.terminate()

            server, url = start_app(data_dir)
            try:
                for name, (path, ready) in pages.items():
                    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
                    address = url + (f"{path}?job={long_id}" if path == "/video" else path)
                    if name == "Search with a query":  # open the page, then type a query and wait for the hits
                        times = []
                        for number in range(2):
                            page.goto(address)
                            times.append(search_for(page, QUERIES[number], ready))
                    else:
                        times = [ready_after(page, lambda address=address, page=page: page.goto(address), ready)
                                 for _ in range(2)]
                    reloaded[name] = times
                    page.close()

                page = chromium.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                pages["Submit"][1](page).wait_for()

                def sidebar(name: str):
                    return lambda: page.locator('[data-testid="stSidebarNavLink"]', has_text=name).click()

                for round_number in range(IN_APP_ROUNDS):
                    for name, action in [("Library", sidebar("Library")),
                                         (f"Video ({args.long} segments)",
                                          lambda: page.get_by_role("link", name="Open").first.click()),
                                         ("Dashboard", sidebar("Dashboard")), ("Search", sidebar("Search")),
                                         ("Search with a query", None), ("Submit", sidebar("Submit"))]:
                        path, ready = pages[name]
                        if action is None:
                            in_app[name].append(search_for(page, QUERIES[2 + round_number % 6], ready))
                        else:
                            in_app[name].append(ready_after(page, action, ready, path.rstrip("/")))
                page.close()
            finally:
                server.terminate()
                server.wait(15)
            chromium.close()

    base = min(baseline)
    print(f"\nbaseline: an empty app's start page, best of 3: {base:.2f} s\n")
    print(f"{'page':<26}{'by address: first':>19}{'again':>8}{'in the app':>12}{'slowest':>9}{'/ baseline':>12}"
          "  under 1 s")
    for name, (first, again) in reloaded.items():
        moved = statistics.median(in_app[name])
        print(f"{name:<26}{first:>18.2f}s{again:>7.2f}s{moved:>11.2f}s{max(in_app[name]):>8.2f}s{moved / base:>11.1f}x"
              f"  {'yes' if moved < 1 else 'no'}")


def search_for(page, query: str, ready) -> float:
    box = page.get_by_role("textbox", name="Search the library by meaning")
    box.wait_for()
    return ready_after(page, lambda: (box.fill(query), box.press("Enter")), ready)


if __name__ == "__main__":
    main()
