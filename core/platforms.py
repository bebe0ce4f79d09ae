"""Which site a URL belongs to, decided by yt-dlp's own extractor registry, plus an SSRF guard."""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MAX_URL_LENGTH = 2048
# Query parameters that only track the click; dropping them keeps the stored URL clean.
TRACKING_PARAMS = {"si", "feature", "fbclid", "gclid", "igsh", "igshid", "ref_src", "ref_url", "is_from_webapp", "sender_device"}
METADATA_HOSTS = {"metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal"}


class InvalidURL(ValueError):
    """The text cannot be processed as a video link; the message says why, for a person."""


@dataclass(frozen=True)
class Source:
    platform: str
    extractor: str
    video_id: str
    url: str


@lru_cache(maxsize=1)
def _extractors():
    from yt_dlp.extractor import gen_extractor_classes

    # Same order yt-dlp tries them in: the generic extractor comes last.
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


def _blocked_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local (cloud metadata) address"
    if ip.is_private or ip.is_reserved or ip.is_unspecified or ip.is_multicast:
        return "a private network address"
    if ip in ipaddress.ip_network("100.64.0.0/10"):  # carrier-grade NAT, not public
        return "a private network address"
    return None


def check_host_is_public(host: str) -> None:
    """Refuse hosts that are, or resolve to, non-public addresses.

    A name that does not resolve is let through: the download then fails with its own clear error,
    and detection keeps working offline.
    """
    if host.rstrip(".").lower() in METADATA_HOSTS or host.lower() == "localhost" or host.lower().endswith(".localhost"):
        raise InvalidURL(f"'{host}' is a local or cloud-metadata address; only public video sites can be used.")
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
        addresses = [literal]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError, OSError):
            return
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        reason = _blocked_reason(address)
        if reason:
            raise InvalidURL(f"'{host}' points to {reason}; only public video sites can be used.")


def detect(url: str, *, allow_private: bool | None = None) -> Source:
    """Validate a pasted link and tell which site, extractor and video it is, as yt-dlp would."""
    if allow_private is None:
        from core.config import get_settings

        allow_private = get_settings().allow_private_urls
    if not isinstance(url, str) or not url.strip():
        raise InvalidURL("Please paste a video link (it was empty).")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(f"That link is {len(url):,} characters long; links over {MAX_URL_LENGTH:,} characters are refused.")
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
    if not allow_private:
        check_host_is_public(host)

    for extractor in _extractors():
        if not extractor.suitable(url):
            continue
        key = extractor.ie_key()
        video_id = extractor.get_temp_id(url)
        cleaned = _clean(url)
        if not extractor.suitable(cleaned) or extractor.get_temp_id(cleaned) != video_id:
            cleaned = url  # the tidy-up changed what the link means to yt-dlp: keep it as pasted
        if key == "Generic" or not video_id:
            # No site-specific id: the clean URL itself identifies the video.
            video_id = hashlib.sha256(cleaned.encode()).hexdigest()[:16]
        platform = extractor.IE_NAME.split(":")[0].lower()
        return Source(platform=platform, extractor=key, video_id=str(video_id), url=cleaned)
    raise InvalidURL("No downloader accepts that link.")  # unreachable while the generic extractor exists


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
