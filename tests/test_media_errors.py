"""yt-dlp's error texts become messages that say what happened and what to do."""

import pytest

from core.sources.media import MediaError, TransientMediaError, explain_download_error

# Messages as yt-dlp prints them for these situations.
CASES = [
    ("ERROR: [youtube] abc: Private video. Sign in if you've been granted access to this video", "private", False),
    ("ERROR: [youtube] abc: Video unavailable. This video has been removed by the uploader", "unavailable", False),
    ("ERROR: [youtube] abc: Sign in to confirm your age. This video may be inappropriate for some users.",
     "age-restricted", False),
    ("ERROR: [instagram] abc: Requested content is not available, rate-limit reached or login required. "
     "Use --cookies", "logged in", False),
    ("ERROR: [youtube] abc: The uploader has not made this video available in your country",
     "geo-blocked", False),
    ("ERROR: [vimeo] 123: Unable to download webpage: HTTP Error 429: Too Many Requests", "rate-limiting", True),
    ("ERROR: Unsupported URL: https://example.com/article", "No video was found", False),
    ("ERROR: [generic] Unable to download webpage: <urlopen error timed out>", "could not be reached", True),
    ("ERROR: something nobody expected", "could not be downloaded", False),
]


@pytest.mark.parametrize("message, expected, transient", CASES)
def test_messages(message, expected, transient):
    error = explain_download_error(message)
    assert isinstance(error, MediaError)
    assert isinstance(error, TransientMediaError) is transient
    assert expected in str(error)
    assert "ERROR:" not in str(error)
