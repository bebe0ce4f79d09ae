"""Throughput with more workers: N short videos through a real Redis and real RQ workers, first with one
worker using every core for speech-to-text, then with two workers splitting the cores (WHISPER_THREADS).

    .venv/bin/python bench/throughput.py [--videos 8] [--seconds 30]

Prints videos per minute for each and their ratio (above 1: the pair is faster). Each round uses a fresh
library and queue on the same Redis server.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline import talk_text  # noqa: E402
from testkit.media import serve, video_with_speech  # noqa: E402
from testkit.services import start_redis  # noqa: E402


def one_round(name: str, workers: int, tmp: Path, redis_url: str, site_url: str, videos: int) -> float:
    """Wall seconds from submitting every video until all are done."""
    data_dir = tmp / name / "data"
    data_dir.mkdir(parents=True)
    (data_dir / "models").symlink_to(tmp / "models", target_is_directory=True)
    threads = max(1, (os.cpu_count() or 1) // workers)
    env = os.environ | {"DATA_DIR": str(data_dir), "REDIS_URL": redis_url, "QUEUE_NAME": f"throughput-{name}",
                        "ALLOW_PRIVATE_URLS": "true", "WHISPER_THREADS": str(threads), "PYTHONPATH": str(ROOT)}
    started = [subprocess.Popen([sys.executable, str(ROOT / "worker.py")], cwd=tmp, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        time.sleep(3)  # the workers are up and waiting, as in production
        began = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "core", "submit", "--wait",
                                 *(f"{site_url}/talk-{n}.mp4" for n in range(videos))],
                                cwd=tmp, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - began
        if result.returncode != 0:
            sys.exit(f"{name}: {result.stdout}\n{result.stderr}")
        return wall
    finally:
        for worker in started:
            worker.terminate()
        for worker in started:
            worker.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        site = tmp / "site"
        site.mkdir()
        for number in range(args.videos):  # different talks: each is a video of its own
            words = talk_text(args.seconds / 60).split()
            video_with_speech(" ".join(words[number:] + words[:number]), site / f"talk-{number}.mp4")
        (tmp / "models").mkdir()
        subprocess.run([sys.executable, "-c", "from core.pipeline import prepare_models; prepare_models()"],
                       cwd=ROOT, env=os.environ | {"DATA_DIR": str(tmp / "models-setup")}, check=True)
        (tmp / "models").rmdir()
        (tmp / "models-setup" / "models").rename(tmp / "models")
        server, site_url = serve(site)
        redis_server, redis_url = start_redis(tmp)
        try:
            one = one_round("one-worker", 1, tmp, redis_url, site_url, args.videos)
            two = one_round("two-workers", 2, tmp, redis_url, site_url, args.videos)
        finally:
            redis_server.terminate()
            server.shutdown()
    cores = os.cpu_count() or 1
    print(f"{args.videos} videos of about {args.seconds:.0f} s each, {cores} cores")
    print(f"1 worker,  WHISPER_THREADS={cores}: {one:6.1f} s  ({60 * args.videos / one:.1f} videos/min)")
    print(f"2 workers, WHISPER_THREADS={max(1, cores // 2)}: {two:6.1f} s  ({60 * args.videos / two:.1f} videos/min)")
    print(f"two workers / one worker throughput: {one / two:.2f}x")


if __name__ == "__main__":
    main()
