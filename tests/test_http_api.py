"""The HTTP API, for programs: a real uvicorn server (`python -m core serve`), a real Redis and worker, driven
with httpx; webhooks received by a local server."""

import hashlib
import hmac
import http.server
import json
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from core.models import Stage
from testkit.media import free_port
from tests.conftest import PYTHON, ROOT, SCRATCH, make_env, wait_for

FULL_KEY, OTHER_KEY, READ_KEY = "key-for-tests-full", "key-for-tests-other", "key-for-tests-read"
SECRET = "webhook-secret-for-tests"
RATE_LIMIT = 10


class Receiver(http.server.BaseHTTPRequestHandler):
    """A program's webhook endpoint: answers 500 to the first call (it is having a bad moment), then 200."""

    calls: list[tuple[dict, bytes]] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(500 if len(Receiver.calls) == 1 else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def service(tmp_path_factory, redis_url, model_cache):
    """An API server and a worker of their own (keys, rate limit and webhook secret set), on one library."""
    folder = tmp_path_factory.mktemp("api")
    env = make_env(folder / "data", redis_url.rsplit("/", 1)[0] + "/7", model_cache)
    env.update(API_KEYS=f"{FULL_KEY}, {OTHER_KEY}", API_READ_KEYS=READ_KEY, API_RATE_LIMIT=str(RATE_LIMIT),
               WEBHOOK_SECRET=SECRET, QUEUE_NAME="api-tests", WORKER_MAINTENANCE_SECONDS="5")
    port = free_port()
    log = open(folder / "processes.log", "w")
    server = subprocess.Popen([PYTHON, "-m", "core", "serve", "--port", str(port)], cwd=SCRATCH, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    worker = subprocess.Popen([PYTHON, str(ROOT / "worker.py")], cwd=SCRATCH, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200, timeout=60, what="the API")
    wait_for(lambda: httpx.get(f"{url}/health", headers={"Authorization": f"Bearer {FULL_KEY}"},
                               timeout=2).json()["workers"] >= 1, timeout=60, what="the worker")
    yield url, env, folder / "processes.log"
    for process in (server, worker):
        process.terminate()
        process.wait(30)
    log.close()


@pytest.fixture
def client(service):
    with httpx.Client(base_url=service[0], headers={"Authorization": f"Bearer {FULL_KEY}"}, timeout=60) as c:
        yield c


def wait_until_final(client, job_id, timeout=300):
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.5)


def test_the_seed_flow_create_then_poll_then_read_everything(client, media_server):
    created = client.post("/jobs/create", json={"url": f"{media_server}/cooking.mp4?from=api"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pending" and body["platform"] == "generic" and body["created"] is True
    job = wait_until_final(client, body["job_id"])
    assert job["status"] == "completed", job["error"]
    assert {"downloading", "transcribing", "completed"} <= set(job["stage_times"]) and job["duration"] > 5

    again = client.post("/jobs/create", json={"url": f"{media_server}/cooking.mp4?from=api&utm_source=x"})
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["job_id"] == body["job_id"]

    transcript = client.get(f"/jobs/{body['job_id']}/transcript").json()
    assert "chocolate" in transcript["text"].lower() and transcript["segments"][0]["words"]
    for fmt, marker in (("srt", "-->"), ("vtt", "WEBVTT"), ("txt", "chocolate"), ("md", "# ")):
        exported = client.get(f"/jobs/{body['job_id']}/transcript", params={"format": fmt})
        assert exported.status_code == 200 and marker in exported.text, fmt
        assert "attachment" in exported.headers["content-disposition"]
    analysis = client.get(f"/jobs/{body['job_id']}/analysis").json()
    assert analysis["category"] == "food" and analysis["sentiment"]["label"] == "positive"
    details = client.get(f"/jobs/{body['job_id']}", params={"details": "true"}).json()
    assert details["analysis"]["category"] == "food" and details["transcript"]["segments"]

    # The stored audio for a player, seekable (range requests), and the thumbnail; where they lie on this machine.
    assert Path(details["media"]["audio_url"]).is_file() and Path(details["media"]["thumbnail_url"]).is_file()
    audio = client.get(f"/jobs/{body['job_id']}/audio")
    assert audio.status_code == 200 and audio.headers["content-type"].startswith("audio/")
    assert audio.headers["accept-ranges"] == "bytes"
    assert len(audio.content) == Path(details["media"]["audio_url"]).stat().st_size
    piece = client.get(f"/jobs/{body['job_id']}/audio", headers={"Range": "bytes=100-199"})
    assert piece.status_code == 206 and piece.content == audio.content[100:200]
    assert client.get(f"/jobs/{body['job_id']}/thumbnail").headers["content-type"] == "image/jpeg"

    hits = client.get("/search", params={"q": "a dessert recipe", "limit": 100}).json()
    ours = next(n for n, hit in enumerate(hits) if hit["job_id"] == body["job_id"])
    # The module's other tests may have sent the same talk under other links first: only those rank alike before it.
    assert all(hit["text"] == hits[ours]["text"] for hit in hits[:ours]) and hits[ours]["start"] >= 0
    assert client.get("/search", params={"q": "a dessert recipe", "platform": "vimeo"}).json() == []

    listed = client.get("/jobs", params={"status": "completed", "limit": 1}).json()
    assert listed["total"] >= 1 and len(listed["jobs"]) == 1 and listed["limit"] == 1
    beyond = client.get("/jobs", params={"offset": 10**20}).json()  # past any library's end: an empty page
    assert beyond["jobs"] == [] and beyond["total"] == client.get("/jobs").json()["total"]


def test_many_links_retry_reprocess_and_delete(client, media_server):
    made = client.post("/jobs", json={"urls": [f"{media_server}/article.html?api=1",
                                               f"{media_server}/football.mp4?api=1"]})
    assert made.status_code == 201, made.text
    failing, football = (item["job_id"] for item in made.json())
    failed = wait_until_final(client, failing)
    assert failed["status"] == "failed" and "No video was found" in failed["error"]
    retried = client.post(f"/jobs/{failing}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    assert wait_until_final(client, failing)["status"] == "failed"

    assert wait_until_final(client, football)["status"] == "completed"
    assert client.post(f"/jobs/{football}/reprocess").json()["status"] == "pending"
    assert wait_until_final(client, football)["status"] == "completed"
    assert client.delete(f"/jobs/{football}").status_code == 204
    assert client.get(f"/jobs/{football}").status_code == 404


def test_errors_are_json_with_the_right_status(service, client):
    url = service[0]
    invalid = client.post("/jobs/create", json={"url": "ftp://example.com/video.mp4"})
    assert invalid.status_code == 400 and "https://" in invalid.json()["error"]
    assert client.post("/jobs/create", json={"url": "https://www.youtube.com/feed/subscriptions"}).status_code == 400
    assert client.post("/jobs/create", json={"nope": 1}).status_code == 400
    for path in ("/jobs/unknown", "/jobs/unknown/transcript", "/jobs/unknown/analysis", "/jobs/unknown/events"):
        missing = client.get(path)
        assert missing.status_code == 404 and missing.json() == {"error": "No job unknown in the library."}, path
    assert client.post("/jobs/unknown/retry").status_code == 404

    anonymous = httpx.get(f"{url}/jobs")
    assert anonymous.status_code == 401 and "Bearer" in anonymous.json()["error"]
    assert httpx.get(f"{url}/jobs", headers={"Authorization": "Bearer wrong"}).status_code == 401
    reader = {"Authorization": f"Bearer {READ_KEY}"}
    assert httpx.get(f"{url}/jobs", headers=reader).status_code == 200
    refused = httpx.post(f"{url}/jobs/create", headers=reader, json={"url": "https://vimeo.com/56015672"})
    assert refused.status_code == 403 and "only read" in refused.json()["error"]
    everything = json.dumps([refused.text, anonymous.text, invalid.text])
    assert FULL_KEY not in everything and READ_KEY not in everything and "Traceback" not in everything


def test_submissions_are_rate_limited_per_key(service, media_server):
    url = service[0]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {OTHER_KEY}"}, timeout=60) as other:
        too_many = other.post("/jobs", json={"urls": [f"{media_server}/cooking.mp4?n={n}"
                                                      for n in range(RATE_LIMIT + 1)]})
        assert too_many.status_code == 429, too_many.text
        assert int(too_many.headers["retry-after"]) >= 1 and "API_RATE_LIMIT" in too_many.json()["error"]
        assert not [j for j in other.get("/jobs").json()["jobs"] if "n=" in j["url"]]  # nothing stored


def test_events_stream_from_start_to_the_final_state(client, media_server):
    job_id = client.post("/jobs/create", json={"url": f"{media_server}/football.mp4?from=events"}).json()["job_id"]
    seen = []
    with client.stream("GET", f"/jobs/{job_id}/events", timeout=300) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "job":
                seen.append(json.loads(line.split(":", 1)[1]))
    stages = [job["stage"] for job in seen]
    # From the state it was in when the stream opened (how many stages pass between two looks depends on the
    # machine's speed) to the final one.
    assert seen[0]["status"] != "completed" and seen[-1]["status"] == "completed"
    order = [stage.value for stage in Stage if stage != Stage.FAILED]
    assert stages == sorted(stages, key=order.index)  # never backwards
    assert {"transcribing", "completed"} <= set(stages)


def test_a_webhook_is_signed_and_retried_until_the_receiver_takes_it(client, media_server):
    Receiver.calls.clear()
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        callback = f"http://127.0.0.1:{receiver.server_port}/hooks/video"
        job_id = client.post("/jobs/create", json={"url": f"{media_server}/football.mp4?from=webhook",
                                                   "callback_url": callback}).json()["job_id"]
        assert wait_until_final(client, job_id)["status"] == "completed"
        deadline = time.monotonic() + 60
        while len(Receiver.calls) < 2:
            assert time.monotonic() < deadline, Receiver.calls
            time.sleep(0.2)
    finally:
        receiver.shutdown()
    for headers, body in Receiver.calls:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-video-insight-signature"], expected)
        assert headers["x-video-insight-event"] == "job.completed"
        sent = json.loads(body)
        assert sent["id"] == job_id and sent["status"] == "completed" and sent["callback_url"] == callback


def test_a_callback_to_a_private_address_is_refused_at_submit(service, media_server, model_cache, tmp_path):
    """With the address policy on, a callback URL on a private host is refused like a video link."""
    env = make_env(tmp_path / "data", None, model_cache) | {"ALLOW_PRIVATE_URLS": "false"}
    result = subprocess.run([PYTHON, "-c", (
        "from core import api\n"
        "try:\n"
        "    api.submit('https://vimeo.com/56015672', callback_url='http://10.0.0.5/hook')\n"
        "except api.InvalidURL as exc:\n"
        "    print(exc)\n")], cwd=SCRATCH, env=env, capture_output=True, text=True, timeout=60)
    assert "callback URL is refused" in result.stdout, result.stderr


def test_health_and_documentation(service, client):
    health = client.get("/health")  # readiness, for a key holder
    assert health.status_code == 200, health.text
    assert health.json()["status"] == "ready" and health.json()["library"] == "ok"
    assert health.json()["queue"] == "ok" and health.json()["workers"] >= 1
    alive = httpx.get(f"{service[0]}/health")  # liveness, for a load balancer: no key, no details
    assert alive.status_code == 200 and alive.json() == {"status": "alive", "library": None, "queue": None,
                                                         "workers": None, "queued": None}
    assert httpx.get(f"{service[0]}/jobs").status_code == 401  # everything else needs a key
    schema = client.get("/openapi.json").json()
    assert {"/jobs/create", "/jobs", "/jobs/{job_id}", "/jobs/{job_id}/events", "/search", "/health"} <= \
        set(schema["paths"])
    assert client.get("/docs").status_code == 200


def test_http_semantics(service, client, media_server):
    # Methods a path does not take: 405, naming every method it does.
    refused = client.request("TRACE", "/jobs")
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD, POST"
    assert client.put("/jobs/create").headers["allow"] == "POST"
    assert client.request("PATCH", "/jobs/abc").headers["allow"] == "DELETE, GET, HEAD"
    # HEAD where GET is: the same status and headers, no body.
    listed, head = client.get("/jobs", params={"limit": 1}), client.head("/jobs", params={"limit": 1})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == listed.headers["content-length"]
    assert client.head("/jobs/unknown").status_code == 404
    # A new job is named by Location; a body larger than 1 MiB is refused unread.
    created = client.post("/jobs/create", json={"url": f"{media_server}/cooking.mp4?semantics=1"})
    assert created.status_code == 201 and created.headers["location"] == f"/jobs/{created.json()['job_id']}"
    huge = client.post("/jobs", content=b"x" * (1024 * 1024 + 1), headers={"content-type": "application/json"})
    assert huge.status_code == 413 and "larger than" in huge.json()["error"]
    # What the schema says is what is enforced.
    for body in ({"urls": []}, {"url": ""}, {"url": "https://vimeo.com/1", "force": 0}, {"url": "a b"},
                 {"url": "https://vimeo.com/1", "colour": "red"}):
        path = "/jobs" if "urls" in body else "/jobs/create"
        assert client.post(path, json=body).status_code == 400, body
    assert client.get("/jobs", params={"collection": "not-an-id"}).status_code == 400
    assert client.get("/jobs", params={"status": "nonsense"}).status_code == 400
    schema = client.get("/openapi.json").json()
    links = schema["paths"]["/jobs/create"]["post"]["responses"]["201"]["links"]
    assert {"get_job", "get_transcript", "get_analysis", "get_audio", "retry", "delete"} <= set(links)
    assert not any("422" in op["responses"] for item in schema["paths"].values() for op in item.values())


def test_an_unreachable_queue_answers_503(empty_library):
    port = free_port()
    env = dict(empty_library.env)  # REDIS_URL points at a port nothing listens on
    server = subprocess.Popen([PYTHON, "-m", "core", "serve", "--port", str(port)], cwd=SCRATCH, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(f"{url}/openapi.json", timeout=2).status_code == 200, what="the API")
        answer = httpx.post(f"{url}/jobs/create", json={"url": "https://vimeo.com/56015672"}, timeout=30)
        assert answer.status_code == 503 and "Redis" in answer.json()["error"]
        health = httpx.get(f"{url}/health", timeout=30)
        assert health.status_code == 503 and health.json()["library"] == "ok" and "Redis" in health.json()["queue"]
        assert httpx.get(f"{url}/jobs", timeout=30).json()["jobs"] == []  # nothing stored
    finally:
        server.terminate()
        server.wait(30)
