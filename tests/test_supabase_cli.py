"""The migrations as users apply them: the real Supabase CLI (`supabase db push --db-url`, from npm) on a
database prepared like a Supabase project's, then the app runs on it. The CLI runs in a network namespace
of its own, with no network at all (it reaches Postgres through its Unix socket), so nothing it would
report or check for can leave this machine."""

import json
import os
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from tests.conftest import ROOT, new_database, supabase_baseline

CLI = ROOT / "node_modules" / ".bin" / "supabase"


def cli_url(database_url: str) -> str:
    """The same database as the Supabase CLI reads a URL: a host name, the socket folder as `host`."""
    parts = urlsplit(database_url)
    return f"postgresql://postgres@localhost{parts.path}?host={parse_qs(parts.query)['host'][0]}"


def test_supabase_db_push_applies_the_migrations_and_the_app_runs_on_them(postgres_server, empty_library,
                                                                           media_server, tmp_path):
    if not CLI.exists():
        pytest.fail("The Supabase CLI is missing: scripts/setup.sh dev installs it (npm ci)")
    database = new_database(postgres_server)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(supabase_baseline())  # the roles and grants a new Supabase project has
    project = tmp_path / "project"
    shutil.copytree(ROOT / "supabase" / "migrations", project / "supabase" / "migrations")  # the CLI writes state
    isolate = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--map-root-user", "--net"]
    env = dict(os.environ, SUPABASE_HOME=str(tmp_path / "cli-home"), SUPABASE_TELEMETRY_DISABLED="1",
               DO_NOT_TRACK="1", SUPABASE_NO_UPDATE_NOTIFIER="1")
    pushed = subprocess.run([*isolate, str(CLI), "db", "push", "--db-url", cli_url(database), "--include-all",
                             "--yes"], cwd=project, env=env, capture_output=True, text=True, timeout=180)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    migrations = sorted(p.stem for p in (ROOT / "supabase" / "migrations").glob("*.sql"))
    for name in migrations:
        assert f"Applying migration {name}.sql" in pushed.stdout + pushed.stderr
    with psycopg.connect(database) as conn:
        applied = {row[0] for row in conn.execute("select version from supabase_migrations.schema_migrations")}
    assert applied == {name.split("_", 1)[0] for name in migrations}

    empty_library.env["DATABASE_URL"] = database
    run = empty_library.cli("run", f"{media_server}/cooking.mp4", "--json")
    assert run.returncode == 0, run.stderr
    [job] = json.loads(run.stdout)
    assert job["status"] == "completed"
    hits = json.loads(empty_library.cli("search", "a dessert recipe", "--json").stdout)
    assert hits[0]["job_id"] == job["id"]
