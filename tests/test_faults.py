"""Nothing lost, nothing stuck: the queue, its workers and the library under faults, with real processes."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from rq import Queue, Worker
from rq.job import Job as RQJob

from core import api
from core.jobs.queue import connect, rq_job_id
from core.jobs.recovery import recover
from testkit import media
from tests.conftest import COOKING, PYTHON, ROOT, SCRATCH, free_port, make_env, wait_for

LONG_TALK = " ".join([COOKING] * 6)  # about a minute of speech: time to act while it is transcribed


def workers_idle() -> bool:
    """Every worker of the queue waits for work: no job's process of theirs is left running."""
    workers = Worker.all(connection=connect())
    return bool(workers) and all(w.get_state() == "idle" and w.get_current_job_id() is None for w in workers)


def queued_jobs() -> list[str]:
    return Queue("pipeline", connection=connect()).job_ids


class RedisServer:
    """A redis-server of the test's own, on its own port, that the test may kill."""

    def __init__(self, folder):
        self.port, self.folder, self.process = free_port(), folder, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        wait_for(lambda: redis.Redis.from_url(self.url).ping(), what="redis-server")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The talks the tests link to, made once: each test has a library of its own, so the same links are new to it."""
    folder = tmp_path_factory.mktemp("site")
    media.video_with_speech(LONG_TALK, folder / "long-talk.mp4")
    media.video_with_speech(COOKING, folder / "cooking.mp4")
    for n in range(3):
        media.video_with_speech(f"Video number {n}. {COOKING}", folder / f"video-{n}.mp4")
    server, url = media.serve(folder)
    yield url
    server.shutdown()


@pytest.fixture
def queue_env(tmp_path, model_cache, monkeypatch):
    """A library and a Redis of this test's own; the test starts (and kills) workers as it needs."""
    redis = RedisServer(tmp_path)
    redis.start()
    env = make_env(tmp_path / "data", redis.url, model_cache)
    env.update(WORKER_MAINTENANCE_SECONDS="3", JOB_RETRY_DELAY_SECONDS="1", JOB_RETRIES="1")
    for key in ("DATA_DIR", "REDIS_URL", "ALLOW_PRIVATE_URLS", "WORKER_MAINTENANCE_SECONDS", "JOB_RETRY_DELAY_SECONDS",
                "JOB_RETRIES"):
        monkeypatch.setenv(key, env[key])
    workers = []

    def start_worker():
        log = open(tmp_path / "worker.log", "a")
        worker = subprocess.Popen([PYTHON, str(ROOT / "worker.py")], cwd=SCRATCH, env=env, stdout=log,
                                  stderr=subprocess.STDOUT)
        workers.append(worker)
        return worker

    yield redis, env, start_worker, tmp_path / "worker.log"
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(30)
            except subprocess.TimeoutExpired:
                worker.kill()
    if redis.process.poll() is None:
        redis.process.terminate()
        redis.process.wait(10)


def wait_for_status(job_id, status, log, timeout=180):
    deadline = time.monotonic() + timeout
    while (job := api.get_job(job_id)).status.value != status:
        assert time.monotonic() < deadline, f"{job.status.value}: {job.error}\n{log.read_text()[-3000:]}"
        assert not (job.is_final and job.status.value != status), (job.status.value, job.error)
        time.sleep(0.05)
    return job


def running_process(job_id: str, not_this: int | None = None) -> int:
    """The process running the job, from the lease its run holds (its value starts with the pid)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        holder = connect().get(f"vis:running:{job_id}")
        if holder and int(holder.split(b":")[0]) != not_this:
            return int(holder.split(b":")[0])
        time.sleep(0.02)
    raise AssertionError("no run holds the job")


def test_jobs_waiting_when_redis_dies_complete_from_an_empty_redis(queue_env, site):
    redis, env, start_worker, log = queue_env
    jobs = [api.submit(f"{site}/video-{n}.mp4").job for n in range(3)]
    assert all(job.status.value == "pending" for job in jobs)
    redis.kill()  # no append-only file: the queue is gone for good
    redis.start()
    assert connect().dbsize() == 0
    start_worker()
    finished = api.wait([job.id for job in jobs], timeout=300)
    assert [job.status.value for job in finished] == ["completed"] * 3, [job.error for job in finished]


def test_a_worker_killed_on_every_try_fails_the_job_saying_so_and_retry_completes_it(queue_env, site):
    redis, env, start_worker, log = queue_env
    start_worker()
    job = api.submit(f"{site}/long-talk.mp4").job
    killed = None
    for attempt in (1, 2):  # JOB_RETRIES=1: the first run and one retry
        wait_for_status(job.id, "transcribing", log)
        killed = running_process(job.id, not_this=killed)
        os.kill(killed, signal.SIGKILL)
        if attempt == 1:  # RQ runs it again after JOB_RETRY_DELAY_SECONDS, resuming at transcription
            deadline = time.monotonic() + 60
            while api.get_job(job.id).stage_times["transcribing"] == job.stage_times.get("transcribing"):
                job = api.get_job(job.id)
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.05)
            job = api.get_job(job.id)
    failed = wait_for_status(job.id, "failed", log, timeout=120)
    assert failed.stage.value == "transcribing"
    assert "The worker stopped 2 times while transcribing" in failed.error
    assert "SIGKILL" in failed.error and "Retry resumes from transcribing" in failed.error

    api.retry(job.id)
    [done] = api.wait([job.id], timeout=300)
    assert done.status.value == "completed", done.error
    assert done.stage_times["downloading"] == failed.stage_times["downloading"]  # resumed, not redone


def test_reprocess_and_cancel_stop_the_running_job_first(queue_env, site):
    redis, env, start_worker, log = queue_env
    start_worker()
    job = api.submit(f"{site}/long-talk.mp4").job
    wait_for_status(job.id, "transcribing", log)
    api.reprocess(job.id)  # stops the running work first, then starts over
    [done] = api.wait([job.id], timeout=300)
    assert done.status.value == "completed", done.error
    transcript = api.transcript(job.id)
    starts = [segment.start for segment in transcript.segments]
    assert starts == sorted(set(starts))  # no segment twice
    assert 4 <= transcript.text.lower().count("chocolate") <= 6  # said 6 times; a doubled run would hold 12

    other = api.submit(f"{site}/cooking.mp4").job
    wait_for_status(other.id, "transcribing", log, timeout=120)
    cancelled = api.cancel(other.id)
    assert cancelled.status.value == "failed" and cancelled.error.startswith("Cancelled while")
    wait_for(workers_idle, what="the worker to stop the cancelled run")
    assert RQJob.fetch(rq_job_id(other.id), connection=connect()).get_status().value == "stopped"
    assert recover().requeued == []  # the round every worker runs leaves a cancelled job alone
    assert api.get_job(other.id).status.value == "failed" and not queued_jobs()
    api.retry(other.id)
    [resumed] = api.wait([other.id], timeout=300)
    assert resumed.status.value == "completed", resumed.error
    assert resumed.stage_times["downloading"] == cancelled.stage_times["downloading"]


def test_cancel_from_the_command_line_while_queued(queue_env, site):
    redis, env, start_worker, log = queue_env
    job = api.submit(f"{site}/cooking.mp4").job
    result = subprocess.run([PYTHON, "-m", "core", "cancel", job.id], cwd=SCRATCH, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Cancelled before it started" in result.stdout
    after = api.submit(f"{site}/video-0.mp4").job  # queued behind the cancelled one
    start_worker()
    [done] = api.wait([after.id], timeout=300)  # the worker went past the cancelled job's place in the queue
    assert done.status.value == "completed", done.error
    assert recover().requeued == []  # as did its recovery round
    assert api.get_job(job.id).status.value == "failed" and "Cancelled before it started" in api.get_job(job.id).error
    assert "downloading" not in api.get_job(job.id).stage_times


def test_a_bug_fails_the_job_once_and_is_not_retried(queue_env, site):
    redis, env, start_worker, log = queue_env
    job = api.submit(f"{site}/cooking.mp4").job
    work = Path(env["DATA_DIR"]) / "work" / job.id
    work.mkdir(parents=True)
    (work / "download.json").write_text("{ not json")  # a damaged record: the pipeline's own code fails on it
    start_worker()
    failed = wait_for_status(job.id, "failed", log)
    assert failed.stage.value == "downloading"
    assert "Unexpected error while downloading: JSONDecodeError" in failed.error
    wait_for(workers_idle, what="the worker to finish the job")
    # RQ ran it to its end, as a job that does not need another try: none is scheduled, none is queued.
    assert RQJob.fetch(rq_job_id(job.id), connection=connect()).get_status().value == "finished"
    scheduled = Queue("pipeline", connection=connect()).scheduled_job_registry.get_job_ids()
    assert not queued_jobs() and rq_job_id(job.id) not in scheduled
    assert recover().requeued == [] and api.get_job(job.id).stage_times == failed.stage_times


def test_no_retries_setting_still_ends_every_job(queue_env, site, monkeypatch):
    redis, env, start_worker, log = queue_env
    env["JOB_RETRIES"] = "0"
    monkeypatch.setenv("JOB_RETRIES", "0")
    queued = subprocess.run([PYTHON, "-m", "core", "submit", f"{site}/cooking.mp4", f"{site}/missing.mp4", "--json"],
                            cwd=SCRATCH, env=env, capture_output=True, text=True, timeout=60)
    assert queued.returncode == 0, queued.stderr
    start_worker()
    jobs = api.wait([job.id for job in api.list_jobs()], timeout=300)
    assert sorted(job.status.value for job in jobs) == ["completed", "failed"]


class FlakySite(media.QuietHandler):
    """Answers 503 to the first requests, as a site in trouble would, then serves normally."""

    failures_left = 0

    def do_GET(self):  # noqa: N802 - http.server's naming
        if FlakySite.failures_left > 0:
            FlakySite.failures_left -= 1
            self.send_error(503, "Service Unavailable")
            return
        super().do_GET()

    do_HEAD = do_GET


def serve_talk(tmp_path, text: str, handler_class):
    folder = tmp_path / handler_class.__name__
    folder.mkdir()
    media.video_with_speech(text, folder / "talk.mp4")
    return media.serve(folder, handler_class=handler_class)


def test_a_transient_failure_waits_for_the_next_try_and_completes(queue_env, tmp_path, monkeypatch):
    redis, env, start_worker, log = queue_env
    server, url = serve_talk(tmp_path, COOKING, FlakySite)
    try:
        FlakySite.failures_left = 1  # the first try meets the 503; the queue's next try does not
        # Time to see the job waiting for its next try (the delay is set by who enqueues, and said by the worker).
        env["JOB_RETRY_DELAY_SECONDS"] = "5"
        monkeypatch.setenv("JOB_RETRY_DELAY_SECONDS", "5")
        start_worker()
        job = api.submit(f"{url}/talk.mp4").job
        deadline = time.monotonic() + 120
        while not (waiting := api.get_job(job.id)).error:
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.05)
        assert waiting.status.value == "pending" and "try 2 of 2" in waiting.progress_detail
        assert "503" in waiting.error
        [done] = api.wait([job.id], timeout=300)
        assert done.status.value == "completed", done.error
    finally:
        server.shutdown()


class SlowSite(media.QuietHandler):
    """Sends files slowly: a download that cannot finish within a short time limit."""

    def copyfile(self, source, outputfile):
        try:
            while chunk := source.read(4096):
                outputfile.write(chunk)
                time.sleep(0.2)
        except (BrokenPipeError, ConnectionResetError):
            pass


def test_a_job_over_its_time_limit_fails_saying_so(queue_env, tmp_path):
    redis, env, start_worker, log = queue_env
    server, url = serve_talk(tmp_path, LONG_TALK, SlowSite)
    try:
        env["JOB_TIMEOUT_SECONDS"] = "3"
        start_worker()
        job = api.submit(f"{url}/talk.mp4").job
        failed = wait_for_status(job.id, "failed", log, timeout=120)
    finally:
        server.shutdown()
    assert failed.stage.value == "downloading"
    assert "ran out of time while downloading" in failed.error and "JOB_TIMEOUT_SECONDS" in failed.error


def test_waiting_jobs_say_why_when_no_worker_runs(queue_env, site):
    from streamlit.testing.v1 import AppTest

    redis, env, start_worker, log = queue_env
    job = api.submit(f"{site}/cooking.mp4").job
    listed = subprocess.run([PYTHON, "-m", "core", "jobs"], cwd=SCRATCH, env=env, capture_output=True, text=True,
                            timeout=60)
    assert listed.returncode == 0 and job.id in listed.stdout
    assert "1 job(s) waiting. No worker is running" in listed.stderr
    for page in ("pages/library.py", "pages/submit.py"):
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
        at.session_state["tracked_jobs"] = [job.id]
        at.switch_page(page).run()
        assert not at.exception
        assert any("No worker is running" in w.value for w in at.warning), [w.value for w in at.warning]
        assert any(b.label == "Cancel" for b in at.button)


def test_delete_while_running_leaves_nothing_behind(queue_env, site):
    redis, env, start_worker, log = queue_env
    start_worker()
    job = api.submit(f"{site}/long-talk.mp4").job
    wait_for_status(job.id, "transcribing", log)
    api.delete(job.id)
    wait_for(workers_idle, what="the worker to stop the deleted job's run")  # no process of the run is left to write
    assert api.get_job(job.id) is None and api.list_jobs() == []
    data = Path(env["DATA_DIR"])
    assert not (data / "work" / job.id).exists()
    assert not [p for p in (data / "storage").rglob("*") if job.id in str(p)]


def test_a_database_that_drops_every_connection_mid_job_loses_nothing(queue_env, site, postgres_url, monkeypatch):
    """Postgres restarting or failing over under a running job: every connection the job's process holds is cut,
    repeatedly, while it transcribes. The job goes on (or is tried again by the queue) and completes."""
    import psycopg

    redis, env, start_worker, log = queue_env
    env["DATABASE_URL"] = postgres_url
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    worker = start_worker()
    job = api.submit(f"{site}/long-talk.mp4").job
    wait_for_status(job.id, "transcribing", log)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        database = admin.execute("select current_database()").fetchone()[0]
        for _ in range(15):
            admin.execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = %s"
                          " and pid <> pg_backend_pid()", (database,))
            time.sleep(0.2)
    [done] = api.wait([job.id], timeout=300)
    assert done.status.value == "completed", (done.error, log.read_text()[-3000:])
    assert "chocolate" in api.transcript(job.id).text.lower()
    # Asked to stop while its maintenance round still waits for the database to take connections again, the
    # worker stops (the stop used to be swallowed as a failed round, and the worker ran on until killed).
    worker.terminate()
    assert worker.wait(60) == 0, log.read_text()[-3000:]
