"""Every connection made while processing a link goes to an allowed host.

127.0.0.2 stands for a public video site (allowed with ALLOWED_PRIVATE_HOSTS) and 127.0.0.1 for an
internal service that must never be reached: it counts every request it receives, and must count none.
"""

import json
import os
import shutil
import subprocess

import pytest

from testkit import media
from tests.conftest import COOKING, PYTHON, ROOT, SCRATCH


@pytest.fixture(scope="module")
def sites(tmp_path_factory):
    folder = tmp_path_factory.mktemp("address-policy-site")
    media.video_with_speech(COOKING, folder / "talk.mp4")
    media.still_picture(folder / "thumb.jpg")
    internal_service = media.counting_handler()
    internal, internal_url = media.serve(folder, "127.0.0.1", internal_service)
    (folder / "embedded.html").write_text(
        f'<html><head><title>Embedded</title></head><body><video src="{internal_url}/talk.mp4"></video></body></html>')
    (folder / "thumbnail.html").write_text(
        f'<html><head><title>Poster</title><meta property="og:image" content="{internal_url}/thumb.jpg"></head>'
        '<body><video src="/talk.mp4"></video></body></html>')
    public, public_url = media.serve(folder, "127.0.0.2", media.redirecting_handler(f"{internal_url}/talk.mp4"))
    yield public_url, internal_url, internal_service
    public.shutdown()
    internal.shutdown()


@pytest.fixture
def policy_env(empty_library, sites):
    env = dict(empty_library.env, ALLOW_PRIVATE_URLS="false", ALLOWED_PRIVATE_HOSTS="127.0.0.2")
    sites[2].hits.clear()
    return env


def run_link(env, url, wrapper=()):
    result = subprocess.run([*wrapper, PYTHON, "-m", "core", "run", url, "--json"], cwd=SCRATCH, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), result.stderr
    [job] = json.loads(result.stdout)
    return job


def test_a_video_on_an_allowed_private_host_completes(sites, policy_env):
    public, _, internal_service = sites
    job = run_link(policy_env, f"{public}/talk.mp4")
    assert job["status"] == "completed", job["error"]
    assert internal_service.hits == []


@pytest.mark.parametrize("path", ["redirect.mp4", "embedded.html", "thumbnail.html"])
def test_media_leading_to_an_internal_host_fails_before_any_request_reaches_it(sites, policy_env, path):
    public, _, internal_service = sites
    job = run_link(policy_env, f"{public}/{path}")
    assert job["status"] == "failed" and job["stage"] == "downloading"
    assert "non-public address" in job["error"] and "127.0.0.1 is a loopback address" in job["error"]
    assert internal_service.hits == []


def test_a_host_name_that_resolves_to_an_internal_address_at_connect_time_is_refused(sites, policy_env, tmp_path):
    """The name is accepted when pasted (nothing is looked up then); the connection is what gets checked."""
    _, internal, internal_service = sites
    if not shutil.which("unshare"):
        pytest.fail("unshare (util-linux) is needed to give the job its own /etc/hosts")
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n127.0.0.1 media.example-cdn.test\n")
    # A private mount namespace in which the name resolves to 127.0.0.1, from /etc/hosts, never DNS.
    wrapper = ["unshare", "--map-root-user", "--mount", "sh", "-c", f'mount --bind "{hosts}" /etc/hosts && exec "$@"',
               "sh"]
    port = internal.rsplit(":", 1)[1]
    job = run_link(policy_env, f"http://media.example-cdn.test:{port}/talk.mp4", wrapper)
    assert job["status"] == "failed", job
    assert "media.example-cdn.test resolves to 127.0.0.1, a loopback address" in job["error"]
    assert internal_service.hits == []


FORKED_JOB = """
import multiprocessing
from core.sources.addresses import AddressPolicy, prepare_guarded_processes, run_guarded
from testkit.processes import parent_of_this_process

def job(answers):
    answers.put(run_guarded(AddressPolicy(), parent_of_this_process))

if __name__ == "__main__":
    prepare_guarded_processes()  # as a worker does before its first job
    server = run_guarded(AddressPolicy(), parent_of_this_process)
    forking = multiprocessing.get_context("fork")
    answers = forking.Queue()
    forked = forking.Process(target=job, args=(answers,))
    forked.start()
    print(server, answers.get(timeout=60), forked.pid, multiprocessing.current_process().pid)
    forked.join(30)
"""


def test_guarded_children_come_from_one_clean_server_also_for_a_forked_child():
    """A worker forks every job; each job's download starts from the server the worker started, not from the job's
    own process (which by then may hold engines) and not from a server of its own per job. (In a process of its own:
    this one may hold engines, and forking it is what the product no longer does.)"""
    done = subprocess.run([PYTHON, "-c", FORKED_JOB], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    server, from_the_job, job, worker = map(int, done.stdout.split())
    assert server == from_the_job and server not in (job, worker)
