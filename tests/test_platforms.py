"""Detection agrees with yt-dlp's own extractors, checked on the URLs of yt-dlp's own tests."""

import pytest
from yt_dlp.extractor import gen_extractor_classes

from core.platforms import detect

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
    source = detect(url, allow_private=False)
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
    source = detect(url, allow_private=False)
    assert (source.platform, source.video_id) == (platform, video_id)
    assert "si=" not in source.url


def test_generic_links_get_a_stable_id():
    first = detect("https://example.com/talk.mp4?utm_source=x", allow_private=False)
    second = detect("https://example.com/talk.mp4", allow_private=False)
    assert first.platform == "generic"
    assert first.video_id == second.video_id
