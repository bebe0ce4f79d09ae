"""Bad links are refused before anything is stored or queued."""

import json
import subprocess
import sys

import pytest

from core.__main__ import main
from core.sources.addresses import AddressPolicy
from core.sources.platforms import InvalidURL, detect
from tests.conftest import SCRATCH

PUBLIC_ONLY = AddressPolicy()  # the default: no private host allowed

BAD_LINKS = {
    "empty": "",
    "not a url": "hello world",
    "bare id": "BaW_jenozKc",
    "ftp scheme": "ftp://example.com/video.mp4",
    "javascript": "javascript:alert(1)",
    "file": "file:///etc/passwd",
    "credentials": "https://user:secret@www.youtube.com/watch?v=BaW_jenozKc",
    "control character": "https://www.youtube.com/watch?v=BaW\x00jenozKc",
    "too long": "https://www.youtube.com/watch?v=" + "a" * 2100,
    "loopback": "http://127.0.0.1:8000/video.mp4",
    "localhost": "http://localhost/video.mp4",
    "private": "http://192.168.1.10/video.mp4",
    "private 10": "http://10.1.2.3/video.mp4",
    "link local": "http://169.254.169.254/latest/meta-data/",
    "metadata name": "http://metadata.google.internal/computeMetadata/v1/",
    "ipv6 loopback": "http://[::1]/video.mp4",
    "mapped ipv4": "http://[::ffff:127.0.0.1]/video.mp4",
    "decimal ip": "http://2130706433/video.mp4",
}


@pytest.mark.parametrize("name", BAD_LINKS)
def test_detect_refuses(name):
    with pytest.raises(InvalidURL) as error:
        detect(BAD_LINKS[name], policy=PUBLIC_ONLY)
    assert isinstance(error.value, ValueError)
    assert len(str(error.value)) > 15  # a sentence, not a code


@pytest.mark.parametrize("name", BAD_LINKS)
def test_cli_exits_2_and_stores_nothing(name, empty_library, monkeypatch, capsys):
    monkeypatch.setenv("ALLOW_PRIVATE_URLS", "false")
    assert main(["submit", BAD_LINKS[name]]) == 2
    assert "Invalid input" in capsys.readouterr().err
    assert main(["jobs", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_one_bad_link_among_good_ones_queues_nothing(empty_library, capsys):
    code = main(["submit", "https://vimeo.com/56015672", "not a link"])
    assert code == 2
    assert "not a link" in capsys.readouterr().err
    main(["jobs", "--json"])
    assert json.loads(capsys.readouterr().out) == []


def test_cli_subprocess_exit_status(empty_library):
    result = subprocess.run([sys.executable, "-m", "core", "submit", "ftp://example.com/a.mp4"], cwd=SCRATCH,
                            env=empty_library.env | {"ALLOW_PRIVATE_URLS": "false"}, capture_output=True, text=True)
    assert result.returncode == 2
    assert "https://" in result.stderr


@pytest.mark.parametrize("pasted", ["youtube.com/watch?v=BaW_jenozKc", "//www.youtube.com/watch?v=BaW_jenozKc",
                                    "  https://www.youtube.com/watch?v=BaW_jenozKc  "])
def test_links_without_scheme_or_with_spaces_around_are_read_as_https(pasted):
    source = detect(pasted, policy=PUBLIC_ONLY)
    assert source.url.startswith("https://") and source.video_id == "BaW_jenozKc"


@pytest.mark.parametrize("url", ["https://www.youtube.com/results?search_query=cats", "https://www.youtube.com/watch?v=BaW_jeno",
                                 "https://www.youtube.com/feed/subscriptions"])
def test_non_video_links_exit_2_and_store_nothing(url, empty_library, capsys):
    assert main(["submit", url]) == 2
    assert "Invalid input" in capsys.readouterr().err
    main(["jobs", "--json"])
    assert json.loads(capsys.readouterr().out) == []


def test_too_many_links_at_once_are_refused_and_nothing_is_stored(empty_library, monkeypatch, capsys):
    monkeypatch.setenv("MAX_LINKS_PER_SUBMISSION", "3")
    links = [f"https://vimeo.com/5601567{n}" for n in range(4)]
    assert main(["submit", *links]) == 2
    assert "at most 3" in capsys.readouterr().err
    main(["jobs", "--json"])
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize("url", ["http://127.0.0.2:8000/video.mp4", "http://[::ffff:127.0.0.2]/video.mp4"])
def test_allowed_private_hosts_are_let_through_and_no_others(url):
    allowed = AddressPolicy.build(False, ["127.0.0.2"])
    assert detect(url, policy=allowed).platform == "generic"
    with pytest.raises(InvalidURL):
        detect("http://127.0.0.1:8000/video.mp4", policy=allowed)
    with pytest.raises(InvalidURL):
        detect("http://10.0.0.1/video.mp4", policy=allowed)
