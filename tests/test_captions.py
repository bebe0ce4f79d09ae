"""Creator captions become the transcript: read from a local page's <track> by the real yt-dlp, no
speech-to-text run; which track is taken, and every caption format read."""

import json

import pytest

from core.config import Settings
from core.sources.captions import choose_track, segments_from
from core.sources.media import download
from testkit import media
from tests.conftest import COOKING

VTT = """WEBVTT

00:00:00.000 --> 00:00:02.500
Welcome to the <b>cooking</b> show.

00:00:02.500 --> 00:00:07.000
Today we bake a wonderful chocolate cake
with fresh strawberries.

00:00:07.000 --> 00:00:09.000
Mix the flour &amp; the sugar.
"""
CUES = [(0.0, 2.5, "Welcome to the cooking show."),
        (2.5, 7.0, "Today we bake a wonderful chocolate cake with fresh strawberries."),
        (7.0, 9.0, "Mix the flour & the sugar.")]


@pytest.fixture
def captioned_site(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    media.video_with_speech(COOKING, site / "talk.mp4")
    (site / "talk.vtt").write_text(VTT)
    (site / "captioned.html").write_text(
        '<html><head><title>Captioned cooking</title></head><body><video src="talk.mp4">'
        '<track kind="captions" srclang="en" src="talk.vtt" label="English"></video></body></html>')
    server, url = media.serve(site)
    yield url
    server.shutdown()


def test_a_captioned_video_takes_the_creators_words_without_speech_to_text(empty_library, captioned_site):
    result = empty_library.cli("run", f"{captioned_site}/captioned.html", "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)
    assert job["status"] == "completed"
    details = json.loads(empty_library.cli("show", job["id"], "--json").stdout)
    assert details["transcript"]["engine"] == "captions:vtt"
    assert [(s["start"], s["end"], s["text"]) for s in details["transcript"]["segments"]] == CUES
    assert details["analysis"]["category"] == "food"  # the rest of the pipeline runs on the captions
    assert details["speakers"] == [] and "diarizing" not in details["stage_times"]  # captions carry no voices
    audio = json.loads(empty_library.cli("jobs", "--json").stdout)[0]
    assert audio["duration"] > 5  # the audio was still fetched, for the player


def test_captions_can_be_turned_off(empty_library, captioned_site):
    empty_library.env["PLATFORM_CAPTIONS"] = "never"
    [job] = json.loads(empty_library.cli("run", f"{captioned_site}/captioned.html", "--json").stdout)
    details = json.loads(empty_library.cli("show", job["id"], "--json").stdout)
    assert details["transcript"]["engine"].startswith("faster-whisper")


@pytest.mark.parametrize("page, mode, expected", [("captioned.html", "creator", True),
                                                   ("captioned.html", "never", False), ("talk.mp4", "creator", False)])
def test_the_download_tells_early_whether_the_captions_will_serve(captioned_site, tmp_path, page, mode, expected):
    """What lets the speech-to-text engine load while the media downloads (or not load at all)."""
    told = []
    settings = Settings(data_dir=tmp_path / "data", allow_private_urls=True, platform_captions=mode)
    fetched = download(f"{captioned_site}/{page}", tmp_path / "work", settings, lambda *_: None, told.append)
    assert told == [expected]
    assert fetched.media_path.is_file() and (fetched.metadata["captions"] is not None) == expected


def track(ext="vtt"):
    return [{"url": f"https://example.com/c.{ext}", "ext": ext}]


@pytest.mark.parametrize("info, mode, chosen", [
    ({"language": "en", "subtitles": {"de": track(), "en-US": track()}}, "creator", "en-US"),
    ({"subtitles": {"fr": track()}}, "creator", "fr"),  # the only creator track
    ({"subtitles": {"fr": track(), "de": track()}}, "creator", None),  # which one? none
    ({"language": "en", "automatic_captions": {"en": track()}}, "creator", None),
    ({"language": "en", "automatic_captions": {"en": track()}}, "also-automatic", "en"),
    ({"automatic_captions": {"en": track()}}, "also-automatic", None),  # no stated language: no guess
    ({"language": "en", "subtitles": {"en": track()}}, "never", None),
    ({"language": "en", "subtitles": {"en": track("sbv")}}, "creator", None),  # a format not read here
])
def test_which_track_is_taken(info, mode, chosen):
    found = choose_track(info, mode)
    assert (found[0] if found else None) == chosen


def test_every_caption_format_gives_the_same_segments():
    srt = ("1\n00:00:00,000 --> 00:00:02,500\nWelcome to the cooking show.\n\n"
           "2\n00:00:02,500 --> 00:00:07,000\nToday we bake a wonderful chocolate cake\nwith fresh strawberries.\n\n"
           "3\n00:00:07,000 --> 00:00:09,000\nMix the flour &amp; the sugar.\n")
    ttml = ('<?xml version="1.0" encoding="UTF-8"?><tt xmlns="http://www.w3.org/ns/ttml" xml:lang="en"><body><div>'
            '<p begin="00:00:00.000" end="00:00:02.500">Welcome to the cooking show.</p>'
            '<p begin="00:00:02.500" end="00:00:07.000">Today we bake a wonderful chocolate cake<br/>with fresh '
            'strawberries.</p><p begin="00:00:07.000" end="00:00:09.000">Mix the flour &amp; the sugar.</p>'
            '</div></body></tt>')
    json3 = json.dumps({"events": [
        {"tStartMs": 0, "dDurationMs": 2500, "segs": [{"utf8": "Welcome to the cooking show."}]},
        {"tStartMs": 2500, "dDurationMs": 4500, "segs": [{"utf8": "Today we bake a wonderful chocolate cake"},
                                                         {"utf8": "\nwith fresh strawberries."}]},
        {"tStartMs": 5000},  # a window event without words
        {"tStartMs": 7000, "dDurationMs": 2000, "segs": [{"utf8": "Mix the flour & the sugar."}]}]})
    for text, fmt in ((VTT, "vtt"), (srt, "srt"), (ttml, "ttml"), (json3, "json3")):
        assert [(s.start, s.end, s.text) for s in segments_from(text, fmt)] == CUES, fmt
