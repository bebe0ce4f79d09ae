"""Faults benchmark: nothing lost, nothing duplicated, nothing stuck, nothing reached that should not be.

    .venv/bin/python bench/faults.py [--jobs 4]

With real processes on this machine: N jobs are queued while no worker runs, Redis is killed (-9) and
restarted empty, then a worker starts; N more jobs run while their worker's job process is killed once
and the whole worker once (and started again); links that lead to an internal host (a redirect, a
page's <video>, a page's thumbnail) are processed beside them. 127.0.0.2 stands for the public site,
127.0.0.1 for the internal service, which counts every request it receives. Every count printed at the
end must be zero; the times are for information.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testkit.media import (  # noqa: E402
    counting_handler,
    free_port,
    redirecting_handler,
    serve,
    still_picture,
    video_with_speech,
)

TALK = ("Welcome to this short talk about rooftop gardens. Rain barrels and drip irrigation save water, "
        "and neighbours who garden together share tools and harvests. ")


def start_redis(port: int, folder: Path) -> subprocess.Popen:
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0:
            return process
        time.sleep(0.1)
    raise RuntimeError("redis-server did not start")


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                found.append(int(entry))
    return found


def kill_tree(pid: int) -> None:
    for child in children(pid):
        kill_tree(child)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def running_process(redis_port: int, job_id: str) -> int | None:
    """The process running a job, from the lease its run holds in Redis (the value starts with its pid)."""
    held = subprocess.run(["redis-cli", "-p", str(redis_port), "get", f"vis:running:{job_id}"], capture_output=True,
                          text=True).stdout.strip()
    return int(held.split(":")[0]) if held else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=4)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vis-faults-"))
    site = tmp / "site"
    site.mkdir()
    for n in range(2 * args.jobs):
        video_with_speech(f"Talk number {n}. {TALK * 3}", site / f"talk-{n}.mp4")
    still_picture(site / "thumb.jpg")
    internal_service = counting_handler()
    internal, internal_url = serve(site, "127.0.0.1", internal_service)
    (site / "embedded.html").write_text(f'<html><body><video src="{internal_url}/talk-0.mp4"></video></body></html>')
    (site / "thumbnail.html").write_text(f'<html><head><meta property="og:image" content="{internal_url}/thumb.jpg">'
                                         '</head><body><video src="/talk-0.mp4"></video></body></html>')
    public, public_url = serve(site, "127.0.0.2", redirecting_handler(f"{internal_url}/talk-0.mp4"))

    port = free_port()
    redis = start_redis(port, tmp)
    env = {k: v for k, v in os.environ.items()}
    env.update(DATA_DIR=str(tmp / "data"), REDIS_URL=f"redis://127.0.0.1:{port}/0", PYTHONPATH=str(ROOT),
               ALLOW_PRIVATE_URLS="false", ALLOWED_PRIVATE_HOSTS="127.0.0.2", JOB_RETRIES="2",
               JOB_RETRY_DELAY_SECONDS="1", WORKER_MAINTENANCE_SECONDS="3", WHISPER_THREADS="2")
    os.environ.update(env)
    os.chdir(tmp)
    from core import api

    log = open(tmp / "worker.log", "a")

    def start_worker() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(ROOT / "worker.py")], env=env, stdout=log, stderr=log)

    # 1. Jobs waiting while Redis dies and comes back empty.
    first = [api.submit(f"{public_url}/talk-{n}.mp4").job.id for n in range(args.jobs)]
    redis.send_signal(signal.SIGKILL)
    redis.wait()
    redis = start_redis(port, tmp)
    started = time.monotonic()
    worker = start_worker()
    after_redis = api.wait(first, timeout=1800)
    redis_recovery = time.monotonic() - started
    lost_redis = sum(job.status.value != "completed" for job in after_redis)

    # 2. Jobs whose worker is killed: the job's process once, then the whole worker.
    hostile = [api.submit(f"{public_url}/{path}").job.id
               for path in ("redirect.mp4", "embedded.html", "thumbnail.html")]
    second = [api.submit(f"{public_url}/talk-{n}.mp4").job.id for n in range(args.jobs, 2 * args.jobs)]
    started = time.monotonic()
    for kill in ("work horse", "whole worker"):
        while not (running := [j for j in second if api.get_job(j).status.value == "transcribing"]):
            time.sleep(0.05)
        if kill == "work horse":
            horse = running_process(port, running[0])
            if horse:
                os.kill(horse, signal.SIGKILL)
        else:
            kill_tree(worker.pid)
            worker.wait()
            worker = start_worker()
    after_kills = api.wait(second + hostile, timeout=1800)
    kill_recovery = time.monotonic() - started
    by_id = {job.id: job for job in after_kills}
    lost_kill = sum(by_id[j].status.value != "completed" for j in second)
    duplicated = 0
    for job_id in second:
        transcript = api.transcript(job_id)
        starts = [s.start for s in transcript.segments] if transcript else []
        duplicated += starts != sorted(set(starts))
    everything = api.list_jobs()
    duplicated += len(everything) - len({(j.platform, j.video_id) for j in everything})
    stuck = sum(not job.is_final for job in everything)
    hostile_completed = sum(by_id[j].status.value == "completed" for j in hostile)

    worker.terminate()
    worker.wait(30)
    redis.terminate()
    public.shutdown()
    internal.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)

    print(f"{'what':<58} {'count':>6}")
    print(f"{f'jobs lost after a Redis kill (of {args.jobs})':<58} {lost_redis:>6}")
    print(f"{f'jobs lost after worker kills (of {args.jobs})':<58} {lost_kill:>6}")
    print(f"{'jobs or transcripts duplicated':<58} {duplicated:>6}")
    print(f"{'jobs stuck in a waiting or running stage at the end':<58} {stuck:>6}")
    print(f"{'links to an internal host that completed (of 3)':<58} {hostile_completed:>6}")
    print(f"{'requests that reached the internal host':<58} {len(internal_service.hits):>6}")
    print(f"\nall {args.jobs} jobs done {redis_recovery:.0f} s after the worker started on the empty Redis; "
          f"the killed batch done in {kill_recovery:.0f} s")
    bad = lost_redis + lost_kill + duplicated + stuck + hostile_completed + len(internal_service.hits)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
