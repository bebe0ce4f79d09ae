"""The shapes the product is deployed in, run the way they run: two `worker.py` (each forking a process per job,
as RQ does) on one Redis and one library, links sent at once from the command line and the HTTP API, and one
worker's machine lost in the middle of a job. On the embedded store (one machine, one DATA_DIR), on Postgres
(DATABASE_URL) with media in an S3-compatible bucket (MEDIA_STORAGE_URL), and on a Supabase project reached by its
keys, where each process has a DATA_DIR of its own, as separate machines would; on Postgres, the bucket's server also
goes down while a link is processed. This is the suite to run before trusting a deployment."""

from __future__ import annotations

import http.server
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from rq import Queue, Worker

from core import api
from core.jobs.queue import Lease, connect
from core.jobs.recovery import recover
from testkit import media
from testkit.fake_supabase import new_database, supabase_project_on
from testkit.services import S3_CREDENTIALS, ObjectStore, start_redis
from tests.conftest import PYTHON, ROOT, SCRATCH, free_port, make_env, wait_for

TALKS = {
    "balcony-garden": ("Tomatoes grow well on a sunny balcony. Water them every morning, feed them once a week and "
                       "tie the stems to a stick as they climb. In August you pick the red fruit.",
                       "growing vegetables in pots outside a flat"),
    "bicycle-repair": ("To mend a flat tyre, take the wheel off and pull the inner tube out. Find the hole, roughen "
                       "the rubber, glue on a patch and pump the tube up again before you refit it.",
                       "fixing a punctured bike wheel"),
    "piano-practice": ("Practise the piano slowly at first. Play each hand alone, count the beats out loud, and only "
                       "speed up when every note is clean. Ten minutes a day beats one long hour a week.",
                       "learning a keyboard instrument"),
    "coffee-brewing": ("For a good cup of coffee, grind the beans just before brewing, use water just off the boil "
                       "and let it steep for four minutes before you press the plunger down.",
                       "making a hot drink from ground beans"),
    "chess-openings": ("In chess, control the centre early. Move a central pawn two squares, develop your knights "
                       "before your bishops and castle your king to safety before you attack.",
                       "the first moves of a board game"),
    "bread-baking": ("Mix flour, water, salt and yeast, knead the dough for ten minutes and let it rise for an hour. "
                     "Shape the loaf, let it rise again and bake it until the crust sounds hollow.",
                     "a homemade loaf from the oven"),
}


@pytest.fixture(scope="module")
def talks_site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("talks")
    for name, (text, _) in TALKS.items():
        media.video_with_speech(text, folder / f"{name}.mp4")
    server, url = media.serve(folder)
    yield url
    server.shutdown()


class Receiver:
    """A program's webhook endpoint: records each notification it receives."""

    def __init__(self):
        self.received: list[tuple[str, str]] = []  # (event, job id)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.received.append((self.headers["X-Video-Insight-Event"], body["id"]))
                self.send_response(200)
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Deployment:
    """One Redis, one library, and machines (an environment each) that use them."""

    def __init__(self, shape: str, tmp_path, model_cache, redis_url: str, store_env: dict[str, str]):
        self.shape, self.tmp_path, self.model_cache, self.redis_url = shape, tmp_path, model_cache, redis_url
        self.store_env = store_env
        self.processes: list[subprocess.Popen] = []

    def machine(self, name: str) -> dict[str, str]:
        # On the embedded store every process shares the one machine's DATA_DIR.
        data_dir = self.tmp_path / ("machine" if self.shape == "sqlite" else name)
        env = make_env(data_dir, self.redis_url, self.model_cache)
        env.update(self.store_env, WHISPER_THREADS="1", WORKER_MAINTENANCE_SECONDS="3", JOB_RETRY_DELAY_SECONDS="1")
        return env

    def start(self, args: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{log_name}.log", "a")
        # A session of its own: killing its group is losing its machine (worker, job processes, forkserver).
        process = subprocess.Popen([PYTHON, *args], cwd=SCRATCH, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-2500:]}" for p in self.tmp_path.glob("*.log"))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(params=["sqlite", "postgres", "supabase"])
def deployment(request, tmp_path, model_cache, monkeypatch):
    redis_process, redis_url = start_redis(tmp_path)
    project = None
    object_store = None
    if request.param == "postgres":  # and media in an S3-compatible bucket, as on machines that share no disk
        database_url = new_database(request.getfixturevalue("postgres_server"))
        object_store = ObjectStore(tmp_path / "object-store.log")
        store_env = {"DATABASE_URL": database_url, "MEDIA_STORAGE_URL": "s3://deployment-media/library",
                     "S3_ENDPOINT_URL": object_store.endpoint, **S3_CREDENTIALS}
    elif request.param == "supabase":
        project = supabase_project_on(request.getfixturevalue("postgres_server"), tmp_path / "supabase-storage")
        database_url = project.database_url
        store_env = {"SUPABASE_URL": project.url, "SUPABASE_SERVICE_ROLE_KEY": project.service_key,
                     "SUPABASE_ANON_KEY": project.anon_key}
    else:
        database_url, store_env = None, {}
    found = Deployment(request.param, tmp_path, model_cache, redis_url, store_env)
    found.database_url, found.object_store = database_url, object_store
    app = found.machine("app")
    for key in ("DATA_DIR", "REDIS_URL", "ALLOW_PRIVATE_URLS", *store_env):  # this process runs on the app's machine
        monkeypatch.setenv(key, app[key])
    yield found
    found.stop()
    if project is not None:
        project.close()
    if object_store is not None:
        object_store.stop()
    redis_process.terminate()
    redis_process.wait(10)


def worker_running(job_id: str, workers: list[subprocess.Popen]) -> subprocess.Popen | None:
    """The worker whose job process holds the job's lease (its value starts with that process's pid)."""
    holder = connect().get(Lease(job_id, connect()).key)
    if not holder:
        return None
    pid = int(holder.decode().split(":")[0])
    try:
        parent = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None
    return next((worker for worker in workers if worker.pid == parent), None)


def stored_rows(deployment: Deployment, job_id: str) -> tuple[int, int]:
    """(segments, vectors) stored for a job, counted in the database itself."""
    if deployment.database_url is None:
        with sqlite3.connect(deployment.tmp_path / "machine" / "library.sqlite3") as conn:
            return (conn.execute("SELECT count(*) FROM segments WHERE job_id = ?", (job_id,)).fetchone()[0],
                    conn.execute("SELECT count(*) FROM embeddings WHERE job_id = ?", (job_id,)).fetchone()[0])
    with psycopg.connect(deployment.database_url) as conn:
        return (conn.execute("select count(*) from public.segments where job_id = %s", (job_id,)).fetchone()[0],
                conn.execute("select count(*) from public.embeddings where job_id = %s", (job_id,)).fetchone()[0])


def test_workers_share_one_library_and_survive_a_lost_machine(deployment, talks_site):
    from streamlit.testing.v1 import AppTest

    workers = [deployment.start([str(ROOT / "worker.py")], deployment.machine(f"worker-{n}"), f"worker-{n}")
               for n in ("a", "b")]
    app = deployment.machine("app")
    port = free_port()
    deployment.start(["-m", "core", "serve", "--port", str(port)], app, "api")
    server = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{server}/health", timeout=2).status_code == 200, timeout=60, what="the API")
    receiver = Receiver()
    urls = [f"{talks_site}/{name}.mp4" for name in TALKS]

    # Links sent at the same moment: three from the command line, three through the HTTP API.
    from_cli = subprocess.Popen([PYTHON, "-m", "core", "submit", *urls[:3], "--json"], cwd=SCRATCH, env=app,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answer = httpx.post(f"{server}/jobs", json={"urls": urls[3:], "callback_url": receiver.url}, timeout=60)
    out, err = from_cli.communicate(timeout=120)
    assert from_cli.returncode == 0 and answer.status_code == 201, (err, answer.text)
    by_api = [job["id"] for job in answer.json()]
    ids = [job["id"] for job in json.loads(out)] + by_api
    assert len(set(ids)) == len(TALKS)

    # The machine of the worker running a job is lost in the middle of it.
    def a_job_mid_way():
        for job in api.get_jobs(ids):
            if job.status.value in ("transcribing", "analyzing", "generating_embeddings"):
                worker = worker_running(job.id, workers)
                if worker is not None:
                    return job, worker
        return None

    deadline = time.monotonic() + 180
    while (found := a_job_mid_way()) is None:
        assert time.monotonic() < deadline, deployment.logs()
        time.sleep(0.05)
    victim, lost = found
    os.killpg(lost.pid, signal.SIGKILL)
    lost.wait()

    # Every job completes, the one whose machine was lost too, resumed by the other worker.
    done = api.wait(ids, timeout=400)
    assert [job.status.value for job in done] == ["completed"] * len(ids), (
        [(job.id, job.status.value, job.error) for job in done], deployment.logs())
    resumed = api.get_job(victim.id)
    assert resumed.stage_times["downloading"] <= victim.stage_times[victim.status.value]

    # ...once: the queue holds nothing more, the recovery round finds nothing to do, and each program heard once.
    # (The lost worker's registration outlives it by RQ's heartbeat time: only the one still running counts.)
    wait_for(lambda: all(w.get_state() == "idle" for w in Worker.all(connection=connect()) if w.pid != lost.pid)
             and not Queue("pipeline", connection=connect()).job_ids, timeout=120, what="an idle queue")
    assert recover().requeued == [] and recover().failed == []
    wait_for(lambda: len(receiver.received) >= len(by_api), timeout=60, what="the webhooks")
    assert sorted(receiver.received) == sorted(("job.completed", job_id) for job_id in by_api)
    for job_id in ids:  # no sentence or vector stored twice
        transcript = api.transcript(job_id)
        starts = [segment.start for segment in transcript.segments]
        assert starts == sorted(set(starts))
        assert stored_rows(deployment, job_id) == (len(transcript.segments), len(transcript.segments) + 1)

    # Every job's stored audio and thumbnail open from the app's machine, whichever worker made them; on machines
    # that share no disk, the workers' own keep nothing but caches.
    for job_id in ids:
        media = httpx.get(f"{server}/jobs/{job_id}").json()["media"]
        if deployment.shape == "sqlite":
            assert Path(media["audio_url"]).is_file() and Path(media["thumbnail_url"]).is_file()
        else:
            assert httpx.get(media["audio_url"]).status_code == 200, media
        audio = httpx.get(f"{server}/jobs/{job_id}/audio", follow_redirects=True)
        assert audio.status_code == 200 and len(audio.content) == api.audio_file(job_id).size_bytes
        thumbnail = httpx.get(f"{server}/jobs/{job_id}/thumbnail", follow_redirects=True)
        assert thumbnail.status_code == 200 and thumbnail.content[:2] == b"\xff\xd8"
    if deployment.shape != "sqlite":
        for name in ("worker-a", "worker-b"):
            kept = [p for p in (deployment.tmp_path / name).rglob("*") if p.is_file() and "models" not in p.parts]
            assert kept == [], kept

    # Search answers the same from every process: the command line, the HTTP API and the app.
    expected = dict(zip(TALKS, ids, strict=True))
    for name, (_, query) in TALKS.items():
        assert httpx.get(f"{server}/search", params={"q": query, "limit": 3}).json()[0]["job_id"] == expected[name]
    for name in ("balcony-garden", "chess-openings"):  # one sent from the command line, one through the API
        found_by_cli = subprocess.run([PYTHON, "-m", "core", "search", TALKS[name][1], "--json", "--limit", "3"],
                                      cwd=SCRATCH, env=app, capture_output=True, text=True, timeout=120)
        assert json.loads(found_by_cli.stdout)[0]["job_id"] == expected[name], (name, found_by_cli.stderr)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("pages/search.py").run()
    at.text_input[0].input(TALKS["bicycle-repair"][1]).run()
    assert not at.exception
    assert "bicycle-repair" in " ".join(m.value for m in at.markdown)

    if deployment.object_store is not None:  # the bucket's server goes down while a link is being processed
        deployment.object_store.stop()
        late = httpx.post(f"{server}/jobs", json={"urls": [f"{talks_site}/{next(iter(TALKS))}.mp4?late=1"]},
                          timeout=60).json()[0]["id"]
        wait_for(lambda: "try 2 of 3" in (api.get_job(late).progress_detail or ""), timeout=180,
                 what="the first try's failure")
        waiting = api.get_job(late)
        assert waiting.status.value == "pending" and "cannot be reached" in waiting.error, waiting
        assert api.audio_file(late) is None  # nothing half-stored: no row points at a missing object
        deployment.object_store.start()  # back (empty: moto keeps objects in memory); the next try completes it
        [done] = api.wait([late], timeout=240)
        assert done.status.value == "completed", (done.error, deployment.logs())
        assert done.stage_times["downloading"] == waiting.stage_times["downloading"]  # resumed, not started over
        media = httpx.get(f"{server}/jobs/{late}").json()["media"]
        assert httpx.get(media["audio_url"]).status_code == 200, media
