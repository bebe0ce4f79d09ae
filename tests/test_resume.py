"""A worker killed in the middle of a job: the job is picked up again and resumes where it stopped."""

import os
import signal
import subprocess
import time

from core import api
from testkit import media
from tests.conftest import COOKING, PYTHON, ROOT, SCRATCH, make_env


def kill_tree(pid: int) -> None:
    """SIGKILL a process and its descendants, as a crash or an out-of-memory kill would."""
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry))
    for child in children:
        kill_tree(child)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def start_worker(env, log_path):
    log = open(log_path, "a")
    return subprocess.Popen([PYTHON, str(ROOT / "worker.py")], cwd=SCRATCH, env=env, stdout=log,
                            stderr=subprocess.STDOUT)


def test_killed_worker_job_resumes_from_its_stage(tmp_path, redis_url, model_cache, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    media.video_with_speech(" ".join([COOKING] * 6), site / "long-talk.mp4")
    server, url = media.serve(site)
    env = make_env(tmp_path / "data", redis_url.replace("/0", "/3"), model_cache)
    env.update(QUEUE_NAME="resume-test", WORKER_MAINTENANCE_SECONDS="5", JOB_RETRY_DELAY_SECONDS="1")
    for key in ("DATA_DIR", "REDIS_URL", "ALLOW_PRIVATE_URLS", "QUEUE_NAME"):
        monkeypatch.setenv(key, env[key])
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        job = api.submit(f"{url}/long-talk.mp4").job
        deadline = time.monotonic() + 120
        while api.get_job(job.id).status.value != "transcribing":
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        before = api.get_job(job.id)
        kill_tree(worker.pid)
        worker.wait()

        worker = start_worker(env, log)
        [after] = api.wait([job.id], timeout=400)
        assert after.status.value == "completed", (after.error, log.read_text()[-3000:])
        # Download and audio extraction were not done again: the job resumed at transcription.
        assert after.stage_times["downloading"] == before.stage_times["downloading"]
        assert after.stage_times["extracting_audio"] == before.stage_times["extracting_audio"]
        assert after.stage_times["transcribing"] > before.stage_times["transcribing"]
        assert "strawberries" in api.transcript(job.id).text.lower()
    finally:
        worker.terminate()
        worker.wait(30)
        server.shutdown()
