"""Following a channel, playlist or feed: its videos come in through the real queue and worker (RQ's scheduler runs
the checks), what appears later is added, a source that disappears is marked and kept, and bad links are refused
before anything is stored or any connection made."""

import http.server
import json
import threading

import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from core import api
from core.server import app as http_app
from testkit import media
from tests.conftest import ROOT, wait_for

TALKS = {"tomatoes": "Tomatoes need six hours of sunshine on a rooftop garden.",
         "bread": "Knead the dough for ten minutes and let the bread rise overnight.",
         "bikes": "Patch the inner tube, then pump the bicycle tyre to the right pressure.",
         "kites": "Fly the kite on a windy hill, far away from trees and power lines."}


def page(site, name: str, videos: list[str]) -> None:
    tags = "".join(f'<video src="{video}.mp4"></video>' for video in videos)
    (site / f"{name}.html").write_text(f"<html><head><title>{name.title()} channel</title></head><body>{tags}"
                                       "</body></html>")


@pytest.fixture(scope="module")
def channel_site(tmp_path_factory):
    site = tmp_path_factory.mktemp("channel-site")
    for name, text in TALKS.items():
        media.video_with_speech(text, site / f"{name}.mp4")
    page(site, "channel", ["tomatoes", "bread"])
    page(site, "later", ["tomatoes", "bread"])
    media.video_with_speech("A lonely single video.", site / "single.mp4")
    server, url = media.serve(site)
    (site / "feed.xml").write_text(  # a podcast's feed, read by yt-dlp's generic extractor
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Weekend skills podcast</title><link>{url}/</link>'
        "<description>Skills</description>" + "".join(
            f'<item><title>{name}</title><enclosure url="{url}/{name}.mp4" type="video/mp4" length="1"/>'
            f"<guid>{url}/{name}</guid></item>" for name in ("bikes", "kites")) + "</channel></rss>")
    yield site, url
    server.shutdown()


class Receiver:
    """A program listening for the library's notifications."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((self.headers["X-Video-Insight-Event"], json.loads(body)))
                self.send_response(204)
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"


def follow_view(follow_id: str) -> dict:
    return next(f.model_dump() for f in api.follows() if f.id == follow_id)


def test_a_followed_page_brings_its_videos_then_whatever_appears(library, channel_site, monkeypatch):
    site, url = channel_site
    library.use_here(monkeypatch)
    receiver = Receiver()
    client = TestClient(http_app)
    created = client.post("/follows", json={"url": f"{url}/channel.html", "every_seconds": 3600,
                                            "callback_url": receiver.url})
    assert created.status_code == 201, created.text
    followed = created.json()
    assert created.headers["location"] == f"/follows/{followed['id']}"
    assert followed["videos_added"] == 2 and followed["status"] == "active" and followed["title"] == "Channel channel"
    again = client.post("/follows", json={"url": f"{url}/channel.html"})
    assert again.status_code == 200 and again.json()["id"] == followed["id"]
    jobs = api.list_jobs(collections=[followed["collection_id"]])
    assert len(jobs) == 2

    media.video_with_speech(TALKS["kites"], site / "kites.mp4")
    page(site, "channel", ["tomatoes", "bread", "kites"])  # a new upload
    assert client.post(f"/follows/{followed['id']}/check").status_code == 200
    wait_for(lambda: follow_view(followed["id"])["videos_added"] == 3, timeout=120, what="the worker's check")
    assert len(api.list_jobs(collections=[followed["collection_id"]])) == 3
    def told() -> list[dict]:
        return [body for event, body in receiver.received if event == "follow.videos_added"]

    wait_for(lambda: len(told()) == 2, timeout=60, what="the follow's notifications")
    assert sorted(len(body["job_ids"]) for body in told()) == [1, 2]  # the first check's two, then the upload
    assert {body["follow"]["id"] for body in told()} == {followed["id"]}

    listed = json.loads(library.cli("follow", "--list", "--json").stdout)
    [mine] = [f for f in listed if f["id"] == followed["id"]]
    assert mine["last_checked_at"] and mine["next_check_at"] > mine["last_checked_at"]

    (site / "channel.html").unlink()  # the source disappears: marked so, kept until removed
    client.post(f"/follows/{followed['id']}/check")
    wait_for(lambda: follow_view(followed["id"])["status"] == "gone", timeout=120, what="the failed check")
    assert "unavailable" in follow_view(followed["id"])["last_error"]
    assert client.delete(f"/follows/{followed['id']}").status_code == 204
    assert client.delete(f"/follows/{followed['id']}").status_code == 404
    assert len(api.list_jobs(collections=[followed["collection_id"]])) == 3  # its videos stay


def test_only_new_uploads_of_a_feed_marks_what_it_lists_as_seen(library, channel_site):
    _, url = channel_site
    result = library.cli("follow", f"{url}/feed.xml", "--every", "1d", "--new-only", "--json")
    assert result.returncode == 0, result.stderr
    followed = json.loads(result.stdout)
    assert followed["title"] == "Weekend skills podcast" and followed["videos_seen"] == 2
    assert followed["videos_added"] == 0 and followed["new_only"] is True and followed["every_seconds"] == 86400
    assert library.cli("unfollow", followed["id"]).returncode == 0


def test_links_that_cannot_be_followed_are_refused_clearly(library, channel_site):
    _, url = channel_site
    for args, message in (([f"{url}/single.mp4"], "one video"),
                          ([f"{url}/channel.html", "--every", "5m"], "at most every 900 s"),
                          ([f"{url}/channel.html", "--every", "soon"], "not an interval"),
                          ([f"{url}/nothing-here.html"], "cannot be listed")):
        result = library.cli("follow", *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    env = dict(library.env, ALLOW_PRIVATE_URLS="false")
    import subprocess

    from tests.conftest import PYTHON, SCRATCH

    refused = subprocess.run([PYTHON, "-m", "core", "follow", "http://10.20.30.40/feed.xml"], cwd=SCRATCH, env=env,
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "private" in refused.stderr.lower(), refused.stderr


def test_the_submit_page_previews_then_follows(library, channel_site, monkeypatch):
    _, url = channel_site
    library.use_here(monkeypatch)
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    [link] = [box for box in at.text_input if box.key == "follow-url"]
    link.input(f"{url}/later.html").run()
    [preview] = [b for b in at.button if b.key == "follow-preview"]
    preview.click().run()
    assert not at.exception
    told = "\n".join(str(i.value) for i in at.info)
    assert "lists 2 videos" in told and "already in the library" in told
    [confirm] = [b for b in at.button if b.key == "follow-confirm"]
    confirm.click().run()
    assert any("Following" in str(s.value) for s in at.success)
    [followed] = [f for f in api.follows() if f.url.endswith("/later.html")]
    api.unfollow(followed.id)


def test_a_collection_in_the_library_can_be_followed(library, channel_site, monkeypatch):
    site, url = channel_site
    library.use_here(monkeypatch)
    page(site, "fresh", ["bikes", "single"])  # videos no other collection holds (a video keeps its first)
    submitted = library.cli("submit", f"{url}/fresh.html", "--json")
    assert submitted.returncode == 0, submitted.stderr
    collection = json.loads(submitted.stdout)[0]["collection"]
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("pages/library.py").run()
    [chooser] = [box for box in at.multiselect if box.label == "Collection"]
    chooser.select(collection["id"]).run()
    [follow] = [b for b in at.button if b.label == "Follow this collection"]
    follow.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    [followed] = [f for f in api.follows() if f.collection_id == collection["id"]]
    assert any("following" in str(m.value) for m in at.markdown)
    api.unfollow(followed.id)
