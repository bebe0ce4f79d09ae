"""What the HTTP layer costs: `GET /jobs/{id}` and `GET /search` over a library of 1,000 videos, through a real
uvicorn server, against the same calls made in-process through core.api (the baseline, in the same run).

    .venv/bin/python bench/api.py [--videos 1000] [--requests 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testkit.media import free_port  # noqa: E402

TOPICS = ["rooftop gardens and tomatoes", "baking bread at home", "repairing an old bicycle",
          "saving money on groceries", "training for a marathon", "learning to play the piano"]
QUERIES = ["how to grow vegetables on a roof", "making sourdough", "fixing a flat tyre", "cheap meals",
           "running long distances", "practising scales"]


def asked(number: int) -> str:
    return f"{QUERIES[number % len(QUERIES)]} {number}"


def timed(call, count: int) -> list[float]:
    latencies = []
    for n in range(count):
        started = time.perf_counter()
        call(n)
        latencies.append(time.perf_counter() - started)
    return latencies


def row(name: str, latencies: list[float], baseline: list[float]) -> str:
    p50, p95 = statistics.median(latencies), statistics.quantiles(latencies, n=20)[18]
    base95 = statistics.quantiles(baseline, n=20)[18]
    return (f"{name:<28}{len(latencies) / sum(latencies):>10.0f}{p50 * 1000:>10.1f}{p95 * 1000:>10.1f}"
            f"{p95 / base95:>17.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vis-api-"))
    os.environ.update(DATA_DIR=str(tmp / "data"), REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
                      PYTHONPATH=str(ROOT))
    os.chdir(tmp)
    import httpx

    from core import api
    from core.config import get_settings
    from core.providers.embed import get_embedder
    from core.store import get_store
    from testkit.library import add_video

    store, embedder = get_store(), get_embedder(get_settings())
    started = time.perf_counter()
    ids = [add_video(store, embedder, video_id=f"v{n:09d}", title=f"Video {n} about {TOPICS[n % len(TOPICS)]}",
                     sentences=[f"This video is about {TOPICS[n % len(TOPICS)]}.",
                                f"Part {n} explains it step by step.", f"The end of video {n}."])
           for n in range(args.videos)]
    print(f"library of {args.videos} videos built in {time.perf_counter() - started:.0f} s")

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        with httpx.Client(base_url=url, timeout=30) as client:
            client.get(f"/jobs/{ids[0]}")
            client.get("/search", params={"q": QUERIES[0]})  # loads the vectors and the model once
            api.search(QUERIES[0])
            count = args.requests
            local_job = timed(lambda n: api.get_job(ids[n % len(ids)]).model_dump_json(), count)
            http_job = timed(lambda n: client.get(f"/jobs/{ids[n % len(ids)]}").raise_for_status(), count)
            # Each request a query this process, and the server, have not been asked before (numbered: a number
            # is no keyword), so that each is embedded as a new one is.
            local_search = timed(lambda n: [h.model_dump_json() for h in api.search(asked(n))], count)
            http_search = timed(lambda n: client.get("/search", params={"q": asked(n)}).raise_for_status(),
                                count)
    finally:
        server.terminate()
        server.wait(30)
    print(f"\n{args.requests} requests each, one client, kept-alive connection")
    print(f"{'call':<28}{'req/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p95 / in-process':>18}")
    print(row("in-process api.get_job", local_job, local_job))
    print(row("GET /jobs/{id}", http_job, local_job))
    print(row("in-process api.search", local_search, local_search))
    print(row("GET /search", http_search, local_search))


if __name__ == "__main__":
    main()
