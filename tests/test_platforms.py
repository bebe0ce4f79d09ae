"""Detection agrees with yt-dlp's own extractors, checked on the URLs of yt-dlp's own tests."""

import subprocess
import sys

import pytest
from yt_dlp.extractor import gen_extractor_classes

from core.sources.addresses import AddressPolicy
from core.sources.platforms import InvalidURL, detect
from tests.conftest import ROOT

PUBLIC_ONLY = AddressPolicy()  # the default: no private host allowed

SITES = {
    "Youtube": "youtube", "TikTok": "tiktok", "Instagram": "instagram", "Facebook": "facebook",
    "Twitter": "twitter", "Vimeo": "vimeo", "Reddit": "reddit", "Dailymotion": "dailymotion",
    "TwitchVod": "twitch",
}


def site_test_urls():
    extractors = {cls.ie_key(): cls for cls in gen_extractor_classes()}
    for key, platform in SITES.items():
        cls = extractors[key]
        for case in cls.get_testcases(include_onlymatching=True):
            url = case["url"]
            if "." not in url.split("/")[0] and not url.startswith(("http", "//")):
                continue  # bare ids and other non-links that yt-dlp accepts on its command line
            expected_id = (case.get("info_dict") or {}).get("id")
            yield pytest.param(url, cls.ie_key(), platform, expected_id, id=f"{key}-{url[:60]}")


CASES = list(site_test_urls())


def test_cases_cover_the_big_sites():
    platforms = {case.values[2] for case in CASES}
    assert {"youtube", "tiktok", "instagram", "facebook", "twitter", "vimeo", "reddit"} <= platforms
    assert len(CASES) > 100


@pytest.mark.parametrize("url, extractor, platform, expected_id", CASES)
def test_detect_matches_ytdlp(url, extractor, platform, expected_id):
    source = detect(url, policy=PUBLIC_ONLY)
    # yt-dlp tries extractors in a fixed order; the first that accepts the URL wins.
    winner = next(cls for cls in gen_extractor_classes() if cls.suitable(url))
    assert source.extractor == winner.ie_key()
    if winner.ie_key() == extractor:
        assert source.platform == platform
        if expected_id and expected_id in url:
            assert source.video_id == expected_id


@pytest.mark.parametrize("url, platform, video_id", [
    ("https://www.youtube.com/watch?v=BaW_jenozKc&si=tracking", "youtube", "BaW_jenozKc"),
    ("https://youtu.be/BaW_jenozKc", "youtube", "BaW_jenozKc"),
    ("https://www.youtube.com/shorts/BaW_jenozKc", "youtube", "BaW_jenozKc"),
    ("https://x.com/user/status/1234567890123456789", "twitter", "1234567890123456789"),
    ("https://vimeo.com/56015672", "vimeo", "56015672"),
])
def test_canonical_ids(url, platform, video_id):
    source = detect(url, policy=PUBLIC_ONLY)
    assert (source.platform, source.video_id) == (platform, video_id)
    assert "si=" not in source.url


def test_generic_links_get_a_stable_id():
    first = detect("https://example.com/talk.mp4?utm_source=x", policy=PUBLIC_ONLY)
    second = detect("https://example.com/talk.mp4", policy=PUBLIC_ONLY)
    assert first.platform == "generic"
    assert first.video_id == second.video_id


NOT_VIDEOS = {
    "truncated watch link": ("https://www.youtube.com/watch?feature=foo", "cut short"),
    "truncated id": ("https://www.youtube.com/watch?v=BaW_jeno", "too short"),
    "script instead of an id": ("https://www.youtube.com/watch?v=<script>alert(1)</script>", "not a video page"),
    "search results": ("https://www.youtube.com/results?search_query=roof+garden", "search results"),
    "home feed": ("https://www.youtube.com/", "feed"),
    "subscriptions feed": ("https://www.youtube.com/feed/subscriptions", "feed"),
    "trending feed": ("https://www.youtube.com/feed/trending", "feed"),
    "consent redirect": ("https://consent.youtube.com/m?continue=https%3A%2F%2Fwww.youtube.com%2Fwatch%3Fv%3D"
                         "BaW_jenozKc&gl=DE", "cookie-consent"),
    "bare short link": ("https://youtu.be/", "not a video page"),
    "about page": ("https://www.youtube.com/about", "not a video page"),
    "tiktok home": ("https://www.tiktok.com/", "TikTok link is not a video page"),
    "x home timeline": ("https://x.com/home", "X link is not a video page"),
    "subreddit": ("https://www.reddit.com/r/videos/", "Reddit link is not a video page"),
}


@pytest.mark.parametrize("name", NOT_VIDEOS)
def test_links_on_known_sites_that_are_not_a_video_are_refused_by_name(name):
    url, words = NOT_VIDEOS[name]
    with pytest.raises(InvalidURL) as error:
        detect(url, policy=PUBLIC_ONLY)
    assert words in str(error.value)


def test_consent_page_points_at_the_video_it_wraps():
    with pytest.raises(InvalidURL) as error:
        detect(NOT_VIDEOS["consent redirect"][0], policy=PUBLIC_ONLY)
    assert "https://www.youtube.com/watch?v=BaW_jenozKc" in str(error.value)


def test_a_video_opened_from_a_playlist_is_that_video():
    source = detect("https://www.youtube.com/watch?v=BaW_jenozKc&list=PLwiyx1dc3P2JR9N8gQaQN_BCvlSlap7re&index=3",
                    policy=PUBLIC_ONLY)
    assert (source.extractor, source.video_id) == ("Youtube", "BaW_jenozKc")
    assert "list=" not in source.url


@pytest.mark.parametrize("url, kind", [
    ("https://www.youtube.com/playlist?list=PLwiyx1dc3P2JR9N8gQaQN_BCvlSlap7re", "collection"),
    ("https://www.youtube.com/@SomeChannel", "collection"),
    ("https://www.youtube.com/watch?v=BaW_jenozKc", "video"),
    ("https://example.com/talks/index.html", "page"),  # one video or several: listed at submit to tell
    ("https://example.com/talks/keynote.mp4", "video"),
])
def test_playlists_and_channels_are_collections(url, kind):
    assert detect(url, policy=PUBLIC_ONLY).kind == kind


COUNT_PATTERN_COMPILES = """
import re, sys
from core.sources import platforms
if sys.argv[1] == "warmed":
    platforms.warm_up()
compiled = 0
real_compile = re.compile
def counting_compile(*args, **kwargs):
    global compiled
    compiled += 1
    return real_compile(*args, **kwargs)
re.compile = counting_compile
for link in ("https://www.tiktok.com/@user/video/7106594312292453675", "https://example.com/talk.mp4"):
    platforms._extractor_for(link)
print(compiled)
"""


@pytest.mark.parametrize("state", ["cold", "warmed"])
def test_warming_up_compiles_every_link_pattern_once_for_the_process(state):
    """A worker warms up before forking its jobs, and the app and API as they start: after that, finding
    the extractor for a link (as validating it and yt-dlp's download both do) compiles nothing."""
    compiled = int(subprocess.run([sys.executable, "-c", COUNT_PATTERN_COMPILES, state], cwd=ROOT,
                                  capture_output=True, text=True, check=True).stdout)
    if state == "cold":
        assert compiled > 1000  # what the first link of a process would otherwise wait for
    else:
        assert compiled == 0
