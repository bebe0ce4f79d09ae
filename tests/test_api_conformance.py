"""The HTTP API against its own schema, as schema-driven tools use it: schemathesis (examples, coverage, fuzzing and
stateful phases, every check) with a write key, a read key and none, and a client generated from /openapi.json by
openapi-python-client that submits a link, waits for it and reads its transcript and search hits. A real server, a
real worker and Redis, in a network namespace of its own where only loopback exists, so that nothing the fuzzer
invents can reach anything but this machine (testkit/api_conformance.py)."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import PYTHON, ROOT


def test_the_api_holds_up_under_a_schema_driven_fuzzer_and_a_generated_client(tmp_path, model_cache):
    isolate = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--map-root-user", "--net"]
    env = {key: value for key, value in os.environ.items() if not key.startswith(("API_", "ALLOW"))}
    run = subprocess.run([*isolate, PYTHON, "-m", "testkit.api_conformance", str(tmp_path / "run"), str(model_cache)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    report = run.stdout[-20000:] + run.stderr[-5000:]
    assert run.returncode == 0, report
    assert "a client generated from /openapi.json: ok" in run.stdout
    for who in ("write key", "read key", "no key"):
        assert f"schemathesis with the {who}: exit 0" in run.stdout, report
    assert '"server_errors": []' in run.stdout
