"""Bad links are refused before anything is stored or queued."""

import json
import subprocess
import sys

import pytest

from core.__main__ import main
from core.platforms import InvalidURL, detect
from tests.conftest import SCRATCH

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
        detect(BAD_LINKS[name], allow_private=False)
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
    source = detect(pasted, allow_private=False)
    assert source.url.startswith("https://") and source.video_id == "BaW_jenozKc"
