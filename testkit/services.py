"""Real services started for the tests and the benchmarks: Redis and the Streamlit app, on free loopback ports."""

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
