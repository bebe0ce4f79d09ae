"""The HTTP API under a schema-driven fuzzer (schemathesis), run the way the API runs: a real server, a real worker
and Redis, a library holding a processed video, and a key that may write, one that may only read, and none.

    unshare --net python -m testkit.api_conformance FOLDER [MODEL_CACHE]

Meant to run in a network namespace of its own, where only loopback exists: the fuzzer invents links, and the API
checks and lists them at submit time, so whatever it invents must find nothing to reach but this machine. It
brings the namespace's loopback up itself. Exits 0 when every check passed; the report is on stdout.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import httpx

from testkit.media import free_port, serve, video_with_speech
from testkit.services import start_redis, wait_for

ROOT = Path(__file__).resolve().parent.parent
WRITE_KEY, READ_KEY = "conformance-write-key", "conformance-read-key"
EXAMPLES = 25  # per operation and phase: enough to reach every answer, few enough for the normal test run
# Without the write key most operations are refused before they read their input: fewer examples reach every answer.
EXAMPLES_REFUSED = 8
CHECKS = "all"
CONFIG = Path(__file__).with_name("schemathesis.toml")


def loopback_up() -> None:
    """A new network namespace has its loopback down; up it goes (SIOCSIFFLAGS, as `ip link set lo up`)."""
    get_flags, set_flags, up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        flags = struct.unpack("16sh", fcntl.ioctl(sock, get_flags, struct.pack("16sh", b"lo", 0)))[1]
        fcntl.ioctl(sock, set_flags, struct.pack("16sh", b"lo", flags | up))


def only_loopback() -> bool:
    """Whether this process sees no network but loopback (a public address cannot even be routed to)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))  # TEST-NET-1: routing decides at connect, nothing is sent
        except OSError:
            return True
    return False


def main(folder: Path, model_cache: Path | None) -> int:
    loopback_up()
    if not only_loopback():
        print("refusing to fuzz: this process can reach more than loopback (run it under `unshare --net`)")
        return 2
    folder.mkdir(parents=True, exist_ok=True)
    data_dir = folder / "data"
    data_dir.mkdir(exist_ok=True)
    if model_cache and not (data_dir / "models").exists():
        (data_dir / "models").symlink_to(model_cache, target_is_directory=True)
    site = folder / "site"
    site.mkdir(exist_ok=True)
    video_with_speech("The garden needs water every morning. Tomatoes love the sun.", site / "garden.mp4")
    media_server, site_url = serve(site)
    redis_process, redis_url = start_redis(folder)
    port = free_port()
    env = dict(os.environ, DATA_DIR=str(data_dir), REDIS_URL=redis_url, PYTHONPATH=str(ROOT),
               ALLOWED_PRIVATE_HOSTS="127.0.0.1", API_KEYS=WRITE_KEY, API_READ_KEYS=READ_KEY,
               API_RATE_LIMIT="100000", WHISPER_THREADS="1", JOB_RETRIES="0")
    env.pop("ALLOW_PRIVATE_URLS", None)
    logs = open(folder / "services.log", "w")
    started = [subprocess.Popen([sys.executable, str(ROOT / "worker.py")], cwd=folder, env=env, stdout=logs,
                                stderr=subprocess.STDOUT),
               subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port)], cwd=folder, env=env,
                                stdout=logs, stderr=subprocess.STDOUT)]
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(f"{base}/health", timeout=2).status_code == 200, timeout=90, what="the API")
        # A processed video in the library, so that the fuzzer's links from a created job reach real results.
        writer = {"Authorization": f"Bearer {WRITE_KEY}"}
        created = httpx.post(f"{base}/jobs/create", json={"url": f"{site_url}/garden.mp4"}, headers=writer,
                             timeout=60)
        job_id = created.json()["job_id"]
        deadline = time.monotonic() + 300
        while httpx.get(f"{base}/jobs/{job_id}", headers=writer, timeout=30).json()["status"] != "completed":
            if time.monotonic() > deadline:
                print("the library's first video did not complete:", (folder / "services.log").read_text()[-3000:])
                return 1
            time.sleep(1)
        failed = 0
        client_problem = generated_client_round_trip(base, f"{site_url}/garden.mp4?client=generated", folder)
        print(f"===== a client generated from /openapi.json: {client_problem or 'ok'}")
        failed += client_problem is not None
        for name, key in (("write key", WRITE_KEY), ("read key", READ_KEY), ("no key", None)):
            run = fuzz(base, key, folder, EXAMPLES if key == WRITE_KEY else EXAMPLES_REFUSED)
            print(f"===== schemathesis with the {name}: exit {run.returncode}\n{run.stdout[-12000:]}")
            failed += run.returncode != 0
        print(json.dumps({"server_errors": server_errors(folder / "services.log")}))
        return 1 if failed or server_errors(folder / "services.log") else 0
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(30)
        redis_process.terminate()
        media_server.shutdown()
        logs.close()


def generated_client_round_trip(base: str, link: str, folder: Path) -> str | None:
    """A client generated from the live schema by openapi-python-client submits a link, waits for it, and reads
    its transcript and the search hits that find it. None when all went as a user would expect, else what did not."""
    schema = folder / "openapi.json"
    schema.write_text(httpx.get(f"{base}/openapi.json", timeout=30).text)
    generated = subprocess.run([str(Path(sys.executable).with_name("openapi-python-client")), "generate", "--path",
                                str(schema), "--meta", "none", "--output-path", str(folder / "client"), "--overwrite"],
                               capture_output=True, text=True, timeout=300,
                               env=dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}"))
    if generated.returncode != 0 or "Warning" in generated.stdout + generated.stderr:
        return f"the generator complained: {generated.stdout}{generated.stderr}"
    sys.path.insert(0, str(folder))
    from client import AuthenticatedClient
    from client.api.jobs import create_job, get_job
    from client.api.results import get_transcript, search
    from client.models import CreateJob, SubmittedJob, TranscriptView

    with AuthenticatedClient(base_url=base, token=WRITE_KEY, raise_on_unexpected_status=True) as client:
        created = create_job.sync(client=client, body=CreateJob(url=link))
        if not isinstance(created, SubmittedJob):
            return f"create_job answered {created!r}"
        deadline = time.monotonic() + 300
        while (job := get_job.sync(client=client, job_id=created.job_id)).status.value not in ("completed", "failed"):
            if time.monotonic() > deadline:
                return "the job did not end"
            time.sleep(1)
        if job.status.value != "completed":
            return f"the job failed: {job.error}"
        transcript = get_transcript.sync(client=client, job_id=created.job_id)
        if not isinstance(transcript, TranscriptView) or "garden" not in transcript.text.lower():
            return f"get_transcript answered {transcript!r}"
        hits = search.sync(client=client, q="watering the garden every morning", limit=5)
        if not hits or created.job_id not in [hit.job_id for hit in hits]:
            return f"search answered {hits!r}"
    return None


def fuzz(base: str, key: str | None, folder: Path, examples: int) -> subprocess.CompletedProcess:
    """One schemathesis run: examples, coverage, fuzzing and stateful phases, every check; the event stream,
    which never ends while a job runs, is left out. It runs in `folder`, where it keeps its cache (the failures it
    replays first next time), so no run inherits another's."""
    headers = ["-H", f"Authorization: Bearer {key}"] if key else []
    return subprocess.run(
        [str(Path(sys.executable).with_name("st")), "--no-color", "--config-file", str(CONFIG), "run",
         f"{base}/openapi.json", "--checks", CHECKS,
         "--max-examples", str(examples), "--seed", "2026", "--exclude-path", "/jobs/{job_id}/events",
         "--request-timeout", "60", "--workers", "1", *headers],
        capture_output=True, text=True, timeout=1200, cwd=folder)


def server_errors(log: Path) -> list[str]:
    """What the API's log tells of answers 500 or errors it did not handle (the worker's log of a webhook that
    could not be delivered, say, is not one)."""
    return [line for line in log.read_text().splitlines()
            if '" 500 ' in line or "Exception in ASGI application" in line]


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))
