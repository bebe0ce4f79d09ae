"""Which site a URL belongs to, decided by yt-dlp's own extractor registry, and whether it is one video
on a host the app may fetch from."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from core.config import get_settings
from core.sources.addresses import AddressPolicy

MAX_URL_LENGTH = 2048
# Query parameters that only track the click; dropping them keeps the stored URL clean.
TRACKING_PARAMS = {"si", "feature", "fbclid", "gclid", "igsh", "igshid", "ref_src", "ref_url", "is_from_webapp",
                   "sender_device"}


class InvalidURL(ValueError):
    """The text cannot be processed as a video link; the message says why, for a person."""


@dataclass(frozen=True)
class Source:
    platform: str
    extractor: str
    #: The video's id on its site; for a collection, the playlist's or channel's.
    video_id: str
    url: str
    #: "video"; "collection" (a playlist, channel or profile); or "page", a page of an unknown site that may
    #: hold one video or several (core.api lists it to tell).
    kind: str = "video"


@lru_cache(maxsize=1)
def _extractors():
    from yt_dlp.extractor import gen_extractor_classes
    from yt_dlp.globals import all_plugins_loaded
    from yt_dlp.plugins import load_all_plugins

    # Extractor plugins (installed `yt_dlp_plugins` packages) come first, as when yt-dlp downloads; the
    # generic extractor comes last.
    if not all_plugins_loaded.value:
        load_all_plugins()
    return gen_extractor_classes()


def _clean(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k.lower() not in TRACKING_PARAMS and not k.lower().startswith("utm_")]
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", urlencode(query), ""))


def _with_scheme(url: str) -> str:
    """People paste 'youtube.com/watch?v=…' or '//youtu.be/…'; read those as https links."""
    if url.startswith("//"):
        return "https:" + url
    head = url.split("/", 1)[0]
    if ":" not in head and re.fullmatch(r"(?:[\w-]+\.)+[a-zA-Z]{2,}", head):
        return "https://" + url
    return url


NOT_A_VIDEO_HINT = "paste the link of a single video (its page, or the Share button's link)"
# Extractors that take a link which is never one video, and what to call it.
FEED_EXTRACTORS = {"YoutubeFavourites", "YoutubeHistory", "YoutubeNotifications", "YoutubeRecommended",
                   "YoutubeSubscriptions", "YoutubeWatchLater"}
SEARCH_EXTRACTORS = {"YoutubeSearchURL", "YoutubeMusicSearchURL", "YoutubeSearch"}
# The big sites, by domain: a link there that only the generic extractor takes is no video page.
KNOWN_SITES = {
    "youtube.com": "YouTube", "youtu.be": "YouTube", "youtube-nocookie.com": "YouTube",
    "tiktok.com": "TikTok", "instagram.com": "Instagram", "facebook.com": "Facebook", "fb.watch": "Facebook",
    "fb.com": "Facebook", "x.com": "X", "twitter.com": "X", "vimeo.com": "Vimeo", "reddit.com": "Reddit",
    "redd.it": "Reddit", "dailymotion.com": "Dailymotion", "dai.ly": "Dailymotion", "twitch.tv": "Twitch",
}
# Parameters that only say which playlist a video was opened from: the video itself is what is wanted.
PLAYLIST_CONTEXT_PARAMS = {"list", "index", "start_radio", "pp", "playnext"}


def known_site(host: str) -> str | None:
    host = host.rstrip(".").lower()
    return next((name for domain, name in KNOWN_SITES.items() if host == domain or host.endswith("." + domain)),
                None)


def _extractor_for(url: str):
    return next(cls for cls in _extractors() if cls.suitable(url))  # the generic extractor takes anything


def warm_up() -> None:
    """Compile every extractor's link pattern now. The first link of a process that only the generic
    extractor, or one late in yt-dlp's list, takes (TikTok, Vimeo, X, any page...) otherwise waits ~1 s for
    some 1,700 patterns to compile; each pattern is compiled once per process, and yt-dlp's own
    extractor lookup when a job downloads reuses them."""
    _extractor_for("https://example.invalid/")  # no site's extractor takes it, so every pattern is tried


def _without_playlist_context(url: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in PLAYLIST_CONTEXT_PARAMS]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _not_a_video(url: str, extractor) -> str | None:
    """Why a link that a site's extractor (or only the generic one) takes is not one video, or None."""
    key = extractor.ie_key()
    parts = urlsplit(url)
    site = known_site(parts.hostname or "")
    if key == "YoutubeTruncatedURL":
        return ("This YouTube link is cut short: it has no video id after 'watch?v='. Copy the whole link "
                "from the address bar or the Share button.")
    if key == "YoutubeTruncatedID":
        return (f"The video id '{extractor.get_temp_id(url)}' in this YouTube link is too short (YouTube ids "
                "have 11 characters): the link was cut off. Copy the whole link.")
    if key == "YoutubeConsentRedirect":
        target = dict(parse_qsl(parts.query)).get("continue", "")
        hint = f" The video's own link is probably {target[:200]}" if target.startswith("https://") else ""
        return f"This is YouTube's cookie-consent page, not a video.{hint}"
    if key in SEARCH_EXTRACTORS:
        return f"This is a page of search results, not a video: {NOT_A_VIDEO_HINT}."
    if key in FEED_EXTRACTORS or (key == "YoutubeTab" and parts.path.startswith("/feed")):
        return f"This is a YouTube feed (home, subscriptions, trending, history...), not a video: {NOT_A_VIDEO_HINT}."
    if key == "Generic" and site:
        return (f"This {site} link is not a video page ({parts.netloc}{parts.path[:60]}): {NOT_A_VIDEO_HINT}; "
                "video links look like " + EXAMPLE_LINKS.get(site, "the address of the video's own page") + ".")
    return None


EXAMPLE_LINKS = {
    "YouTube": "https://www.youtube.com/watch?v=dQw4w9WgXcQ or https://youtu.be/dQw4w9WgXcQ",
    "TikTok": "https://www.tiktok.com/@user/video/7106594312292453675",
    "Instagram": "https://www.instagram.com/reel/C1a2b3c4d5e/",
    "X": "https://x.com/user/status/1234567890123456789",
    "Vimeo": "https://vimeo.com/56015672",
}


def detect(url: str, *, policy: AddressPolicy | None = None) -> Source:
    """Validate a pasted link and tell which site, extractor and video it is, as yt-dlp would."""
    if policy is None:
        policy = AddressPolicy.from_settings(get_settings())
    if not isinstance(url, str) or not url.strip():
        raise InvalidURL("Please paste a video link (it was empty).")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(f"That link is {len(url):,} characters long; links over {MAX_URL_LENGTH:,} characters "
                         "are refused.")
    if any(ord(ch) < 32 or ord(ch) == 127 or ch.isspace() for ch in url):
        raise InvalidURL("That link contains spaces or control characters; paste one link per line.")
    url = _with_scheme(url)
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise InvalidURL(f"'{url[:80]}' is not a web link; links look like https://www.youtube.com/watch?v=...")
    if parts.scheme.lower() not in ("http", "https"):
        raise InvalidURL(f"Links must start with https:// or http://, not {parts.scheme}://.")
    if parts.username is not None or parts.password is not None:
        raise InvalidURL("Links with a user name or password in them are refused; remove the 'user:pass@' part.")
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise InvalidURL(f"That link is malformed ({exc}).") from None
    if not host:
        raise InvalidURL("That link has no host name.")
    problem = policy.link_host_problem(host)
    if problem:
        raise InvalidURL(f"{problem}; only public video sites can be used.")

    extractor = _extractor_for(url)
    if extractor._RETURN_TYPE != "video" and any(k in PLAYLIST_CONTEXT_PARAMS for k, _ in parse_qsl(parts.query)):
        single = _without_playlist_context(url)
        if _extractor_for(single)._RETURN_TYPE == "video":  # a video opened from a playlist: that video
            url, extractor = single, _extractor_for(single)
    problem = _not_a_video(url, extractor)
    if problem:
        raise InvalidURL(problem)
    key = extractor.ie_key()
    kind = _kind(url, extractor)
    video_id = extractor.get_temp_id(url)
    cleaned = _clean(url)
    if not extractor.suitable(cleaned) or extractor.get_temp_id(cleaned) != video_id:
        cleaned = url  # the tidy-up changed what the link means to yt-dlp: keep it as pasted
    if key == "Generic" or not video_id:
        # No site-specific id: the clean URL itself identifies the video.
        video_id = hashlib.sha256(cleaned.encode()).hexdigest()[:16]
    platform = extractor.IE_NAME.split(":")[0].lower()
    return Source(platform=platform, extractor=key, video_id=str(video_id), url=cleaned, kind=kind)


MEDIA_FILE_SUFFIXES = (".mp4", ".m4a", ".m4v", ".mov", ".webm", ".mkv", ".mp3", ".ogg", ".opus", ".wav", ".flac",
                       ".aac", ".m3u8", ".mpd", ".ts", ".avi", ".flv")


def _kind(url: str, extractor) -> str:
    if extractor.ie_key() in ("YoutubeTab", "YoutubeYtUser") or extractor._RETURN_TYPE == "playlist":
        return "collection"
    if extractor.ie_key() == "Generic" and not urlsplit(url).path.lower().endswith(MEDIA_FILE_SUFFIXES):
        return "page"
    return "video"


def check_callback_url(url: str, policy: AddressPolicy) -> str:
    """A webhook address given with links: http(s), no credentials, on a host the policy allows (judged
    without a lookup here, and again on every address when the notification connects)."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidURL("The callback URL is empty.")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidURL("The callback URL must be an http:// or https:// address.")
    if len(url) > MAX_URL_LENGTH or parts.username is not None or any(ord(ch) < 33 for ch in url):
        raise InvalidURL("The callback URL is malformed (too long, credentials or spaces in it).")
    problem = policy.link_host_problem(parts.hostname)
    if problem:
        raise InvalidURL(f"The callback URL is refused: {problem}; notifications go to public addresses only.")
    return url


def link_at(url: str, platform: str, seconds: float) -> str:
    """The original video's link, starting at a moment, for the sites whose players accept one."""
    second = max(0, int(seconds))
    if second == 0:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("t", "start")]
    if platform == "youtube":
        query.append(("t", f"{second}s"))
    elif platform == "twitch":
        query.append(("t", f"{second // 3600}h{second // 60 % 60}m{second % 60}s"))
    elif platform == "dailymotion":
        query.append(("start", str(second)))
    elif platform == "vimeo":
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, f"t={second}s"))
    elif platform == "generic":
        # W3C media fragments: browsers start direct media files here.
        return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, f"t={second}"))
    else:
        return url
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))
