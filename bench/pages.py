"""How fast every page is ready in a real browser, and what an open page costs while nothing changes, on a small
library and a large one in the same run: 10 videos, then 5,000 videos and 100,000 segments; in each, the newest
video is a 2-hour talk (1,440 segments) with its translation, three named speakers taking turns and 12 chapters.

    .venv/bin/python bench/pages.py [--small 10] [--videos 5000] [--segments 100000] [--long 1440]

Builds each library (random unit vectors: embedding 100,000 sentences would only slow the set-up), starts
Streamlit on it, and times each page in headless Chromium (/usr/bin/chromium) two ways:
- loaded by its address, four times in one tab of a browser that has not seen the app: the first load pays for
  fetching the app's files and starting a session, the others (their median) for the browser running Streamlit's
  and plotly's JavaScript again (the server has drawn a page already: its own start is printed apart);
- reached inside the app after the first load, as a person moves around: the sidebar's links, a video
  opened from the Library, a query typed into Search (five rounds: the median, and the slowest);
- and then left open, the Library and the Submit page, for 30 s while nothing changes: the share of a core the
  app's server uses, and the whole machine (the browser's share is in it).
A page is ready when its content is on screen and Streamlit has stopped running its script. The
baseline, measured in the same run, is an empty Streamlit page (the app's own start page, with no
library behind it), so the ratios mean the same on any machine; each page on the large library is also
compared with itself on the small one (flat: 1.0x).
"""

from __future__ import annotations

import argparse
import json
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
from core.library.insights import LIBRARY_PAGE_SIZE  # noqa: E402
from testkit.services import start_streamlit  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IN_APP_ROUNDS = 5
RELOADS = 4  # loads of each page by its address
IDLE_SECONDS = 30
CATEGORIES = ["food", "sports", "technology", "science", "travel", "health", "business", "music"]


def build_library(data_dir: Path, videos: int, per_video: int, long: int) -> str:
    """Fill a library; returns the id of the long video."""
    os.environ["DATA_DIR"] = str(data_dir)
    from core.config import get_settings
    from core.models import Chapter, Speaker, VoiceSample
    from core.providers.embed import get_embedder
    from core.store import get_store
    from testkit.library import add_video

    store, embedder = get_store(), get_embedder(get_settings())
    rng, chooser = np.random.default_rng(7), random.Random(7)
    words, weights = vocabulary(chooser)

    def add(number: int, count: int, translated: bool = False) -> str:
        said = sentences(chooser, words, weights, count)
        vectors = unit_vectors(rng, count, embedder.dim)
        job_id = add_video(store, embedder, video_id=f"page{number:07d}", title=f"Talk {number}", sentences=said,
                           platform=chooser.choice(["youtube", "vimeo", "tiktok"]),
                           category=chooser.choice(CATEGORIES),
                           sentiment=chooser.choice(["positive", "neutral", "negative"]),
                           upload_date=f"2026-{chooser.randint(1, 11):02d}-{chooser.randint(1, 28):02d}",
                           vectors=vectors, language="es" if translated else "en",
                           translation=sentences(chooser, words, weights, count) if translated else None)
        analysis = store.get_analysis(job_id)
        store.save_analysis(job_id, analysis.model_copy(update={
            "topics": chooser.sample(words[50:90], 5),
            "segment_sentiment": [round(chooser.uniform(-1, 1), 2) for _ in range(count)]}))
        return job_id

    for number in range(videos - 1):
        add(number, per_video)
    long_id = add(videos - 1, long, translated=True)  # the newest, so the Library's first card opens it
    talk = store.get_transcript(long_id)
    voices = {f"S{n}": unit_vectors(rng, 1, 256)[0].round(5).tolist() for n in (1, 2, 3)}
    speakers = [Speaker(id=key, name=name, seconds=round(talk.segments[-1].end / 3, 1), voice=voices[key],
                        voice_model="ge2e") for key, name in (("S1", "Ada"), ("S2", "Grace"), ("S3", "Hedy"))]
    turns = [segment.model_copy(update={"speaker": f"S{(number // 4) % 3 + 1}"})  # turns of four lines
             for number, segment in enumerate(talk.segments)]
    store.save_transcript(long_id, talk.model_copy(update={"segments": turns, "speakers": speakers,
                                                           "diarized": True}))
    for speaker in speakers:
        store.save_voice_sample(VoiceSample(job_id=long_id, speaker=speaker.id, name=speaker.name,
                                            seconds=speaker.seconds, voice=speaker.voice))
    length = talk.segments[-1].end
    store.update_job(long_id, chapters=[Chapter(start=length * n / 12, end=length * (n + 1) / 12,
                                                title=f"Part {n + 1}", source="generated")
                                        for n in range(12)])
    return long_id


def start_app(data_dir: Path) -> tuple[subprocess.Popen, str]:
    return start_streamlit(os.environ | {"DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}, data_dir.parent)


SHOWN_JS = """(kind, value, count) => {
    const visible = (element) => {
        const box = element.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && element.checkVisibility({visibilityProperty: true});
    };
    let found = [];
    if (kind === "css") {
        found = [...document.querySelectorAll(value)];
    } else if (kind === "label") {
        found = [...document.querySelectorAll("input, textarea")].filter(
            (field) => field.getAttribute("aria-label") === value || field.placeholder === value);
    } else {
        const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (texts.nextNode()) {
            const said = texts.currentNode.nodeValue.trim();
            if (kind === "exact" ? said === value : said.includes(value)) found.push(texts.currentNode.parentElement);
        }
    }
    return found.filter(visible).length >= count;
}"""


def shown(kind: str, value: str, count: int = 1) -> str:
    """A test the page runs on itself: `count` visible elements that match `value`, a CSS selector (`css`), the
    label or placeholder of a field (`label`), or words on the page (`text`, `exact`)."""
    return f"({SHOWN_JS})({json.dumps(kind)}, {json.dumps(value)}, {count})"


def new_window(chromium):
    """A page in a browser window of its own (a visitor that has not seen the app), once the machine is quiet:
    Chromium builds each new window's own interface (its omnibox popup, a page of its own) in the first second,
    which took ~0.9 s of a core beside the app's first load on a 2-core machine. A visitor's browser is open before
    they type the address."""
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    quiet, deadline, tick = 0, time.monotonic() + 5, os.sysconf("SC_CLK_TCK")
    while quiet < 3 and time.monotonic() < deadline:
        busy_before, _ = machine_ticks()
        time.sleep(0.1)
        busy_after, _ = machine_ticks()
        quiet = quiet + 1 if (busy_after - busy_before) / tick < 0.02 else 0  # under 20 % of a core
    return page


def ready_after(page, action, ready: str, path: str | None = None) -> float:
    """Seconds from `action` until the address shows `path` (when given), `ready` (see `shown`) holds and Streamlit's
    script has finished. Both are checked in the page at every frame: Playwright's own waits for an element look
    again at growing intervals, up to 500 ms apart, so they timed their own polling more than the page."""
    began = time.perf_counter()
    action()
    if path is not None:
        page.wait_for_url(lambda address: address.split("?")[0].rstrip("/").endswith(path), timeout=60_000)
    page.wait_for_function(f"() => {ready} && !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                           polling="raf", timeout=60_000)
    return time.perf_counter() - began


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=10, help="videos in the small library")
    parser.add_argument("--videos", type=int, default=5000, help="videos in the large library")
    parser.add_argument("--segments", type=int, default=100_000, help="segments in the large library")
    parser.add_argument("--long", type=int, default=1440, help="segments of the long talk (5 s each: 2 hours)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        empty = Path(tmp) / "empty" / "data"
        empty.mkdir(parents=True)
        baseline_server, baseline_url = start_app(empty)
        page = new_window(chromium)
        base = min(ready_after(page, lambda: page.goto(baseline_url), shown("label", "Video links"))
                   for _ in range(3))
        page.close()
        baseline_server.terminate()

        results = {}
        per_video = max(1, (args.segments - args.long) // max(1, args.videos - 1))
        for videos in (args.small, args.videos):
            data_dir = Path(tmp) / f"library-{videos}" / "data"
            data_dir.mkdir(parents=True)
            began = time.perf_counter()
            long_id = build_library(data_dir, videos, per_video, args.long)
            segments = (videos - 1) * per_video + args.long
            print(f"built {videos:,} videos, {segments:,} segments in {time.perf_counter() - began:.0f} s")
            results[videos] = measure(chromium, data_dir, long_id, f"Talk {videos - 1}")
        chromium.close()

    small = results[args.small]
    print(f"\nbaseline: an empty app's start page, best of 3: {base:.2f} s; the long talk: {args.long} segments"
          " (2 hours at 5 s each), translated")
    print(f"\n{'page':<24}{'videos':>7}{'by address: first':>19}{'again':>8}{'in the app':>12}{'slowest':>9}"
          f"{'/ baseline':>12}{f'/ {args.small} videos':>14}")
    for name in small.reloaded:
        for videos, found in results.items():
            first, again = found.reloaded[name][0], statistics.median(found.reloaded[name][1:])
            if not found.in_app[name]:  # reached by its address only: compared by its second load
                flat = again / statistics.median(small.reloaded[name][1:])
                print(f"{name:<24}{videos:>7,}{first:>18.2f}s{again:>7.2f}s{'–':>12}{'–':>9}"
                      f"{again / base:>11.1f}x{flat:>13.2f}x")
                continue
            moved = statistics.median(found.in_app[name])
            flat = moved / statistics.median(small.in_app[name])
            print(f"{name:<24}{videos:>7,}{first:>18.2f}s{again:>7.2f}s{moved:>11.2f}s"
                  f"{max(found.in_app[name]):>8.2f}s{moved / base:>11.1f}x{flat:>13.2f}x")
    print("goals: each page at the large size within 1.2x of the small; every page under 1.0 s, a first load under"
          " 1.5 s")
    listed = min(args.small, LIBRARY_PAGE_SIZE)
    print(f"the Library lists {listed} videos on the small library and a page of {LIBRARY_PAGE_SIZE} on the large"
          f" one: {LIBRARY_PAGE_SIZE / listed:.1f}x the cards")
    print("the first page a server drew after starting (its imports and caches; counted in none of the above): "
          + ", ".join(f"{videos:,} videos {found.server_start:.2f} s" for videos, found in results.items()))
    print(f"\nan open page left alone for {IDLE_SECONDS} s (goal: at most 2 % of a core)")
    for videos, found in results.items():
        for name, (server_share, machine_share) in found.idle.items():
            print(f"{name:<10}{videos:>7,} videos: the app's server {server_share:5.1f} % of a core, the whole machine"
                  f" {machine_share:5.1f} % (the browser included)")


class Measured:
    def __init__(self):
        self.reloaded: dict[str, list[float]] = {}
        self.in_app: dict[str, list[float]] = {}
        self.idle: dict[str, tuple[float, float]] = {}
        self.server_start = 0.0  # the first page the server draws after starting (its imports, its caches)


def measure(chromium, data_dir: Path, long_id: str, newest: str) -> Measured:
    """Every page of the app over one library: by address, moving around inside the app, and left open."""
    found = Measured()
    video = "Video (2-hour talk)"
    # Each page: its address, and what shows it is ready. The Dashboard draws the open tab's 2 charts.
    pages = {
        "Submit": ("/", shown("label", "Video links")),
        "Library": ("/library", shown("exact", newest)),
        "Dashboard": ("/dashboard", shown("css", ".js-plotly-plot", 2)),
        "Search": ("/search", shown("label", "Search the library by meaning")),
        "Search with a query": ("/search", shown("text", "Open at this moment")),
        video: ("/video", shown("text", "Find in transcript")),
        "Ask": ("/ask", shown("label", "Ask a question about the library")),
        "Dashboard: people": ("/dashboard?dashboard-tab=%F0%9F%97%A3%EF%B8%8F+People", shown("css", ".js-plotly-plot")),
    }
    found.in_app = {name: [] for name in pages}
    server, url = start_app(data_dir)
    try:
        page = new_window(chromium)
        found.server_start = ready_after(page, lambda: page.goto(url), pages["Submit"][1])
        page.close()
        for name, (path, ready) in pages.items():  # each a new visitor's: a browser that has not seen the app
            page = new_window(chromium)
            address = url + (f"{path}?job={long_id}" if path == "/video" else path)
            if name == "Search with a query":  # open the page, then type a query and wait for the hits
                times = []
                for number in range(RELOADS):
                    page.goto(address)
                    times.append(search_for(page, QUERIES[number], ready))
            else:
                times = [ready_after(page, lambda address=address, page=page: page.goto(address), ready)
                         for _ in range(RELOADS)]
            found.reloaded[name] = times
            page.close()

        page = new_window(chromium)
        page.goto(url)
        page.wait_for_function(f"() => {pages['Submit'][1]}", polling="raf")

        def sidebar(name: str):
            return lambda: page.locator('[data-testid="stSidebarNavLink"]', has_text=name).click()

        for round_number in range(IN_APP_ROUNDS):
            for name, action in [("Library", sidebar("Library")),
                                 (video, lambda: page.get_by_role("link", name="Open").first.click()),
                                 ("Dashboard", sidebar("Dashboard")), ("Search", sidebar("Search")),
                                 ("Search with a query", None), ("Submit", sidebar("Submit"))]:
                path, ready = pages[name]
                if action is None:  # a query the server has not been asked (numbered: a number is no keyword)
                    query = f"{QUERIES[2 + round_number % 6]} {round_number}"
                    found.in_app[name].append(search_for(page, query, ready))
                else:
                    found.in_app[name].append(ready_after(page, action, ready, path.rstrip("/")))
        page.close()

        for name in ("Library", "Submit"):  # an open page nobody touches, while nothing changes
            page = new_window(chromium)
            path, ready = pages[name]
            ready_after(page, lambda page=page, path=path: page.goto(url + path), ready)
            time.sleep(3)
            found.idle[name] = idle_cost(server.pid, IDLE_SECONDS)
            page.close()
    finally:
        server.terminate()
        server.wait(15)
    return found


def cpu_ticks(pid: int) -> int:
    """User and system clock ticks a process has used (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def idle_cost(server_pid: int, seconds: float) -> tuple[float, float]:
    """Share of one core the app's server, and the whole machine (the browser included), use over `seconds`."""
    tick = os.sysconf("SC_CLK_TCK")
    server_before, (busy_before, _) = cpu_ticks(server_pid), machine_ticks()
    time.sleep(seconds)
    server_after, (busy_after, _) = cpu_ticks(server_pid), machine_ticks()
    return (100 * (server_after - server_before) / tick / seconds, 100 * (busy_after - busy_before) / tick / seconds)


def search_for(page, query: str, ready) -> float:
    box = page.get_by_role("textbox", name="Search the library by meaning")
    box.wait_for()
    return ready_after(page, lambda: (box.fill(query), box.press("Enter")), ready)


if __name__ == "__main__":
    main()
