"""Fetching media with yt-dlp and preparing it with ffmpeg. Everything works on files in a work dir."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from core.config import Settings
from core.sources import audio
from core.sources.addresses import AddressPolicy, ProcessEnded, RefusedConnection, run_guarded
from core.sources.captions import choose_track

log = logging.getLogger(__name__)
Progress = Callable[[float, str], None]
THUMBNAIL_EXTS = (".jpg", ".jpeg", ".png", ".webp", ".image")
# Sites send whatever they like as titles and descriptions; the library keeps a sensible amount.
MAX_TITLE_CHARS = 300
MAX_NAME_CHARS = 120
MAX_DESCRIPTION_CHARS = 5000


class MediaError(Exception):
    """A problem with the video itself; retrying will not help. The message is for the user."""


class TransientMediaError(MediaError):
    """A problem that may go away (network, rate limit); the queue may try the job again."""


# yt-dlp reports these situations only as text; map them to what the user should do.
_YTDLP_MESSAGES: list[tuple[tuple[str, ...], str, bool]] = [
    (("private video", "video is private", "this account is private"),
     "This video is private. Only videos you can watch without an invitation can be processed.", False),
    (("sign in to confirm your age", "age-restricted", "age restricted", "inappropriate for some users"),
     "This video is age-restricted. Set COOKIES_FILE to a cookies.txt of a logged-in account to process it.", False),
    (("login required", "log in", "sign in", "requires authentication", "cookies", "logged-in",
      "rate-limit reached or login"),
     "This site requires you to be logged in to watch this video. Set COOKIES_FILE to a cookies.txt exported "
     "from your browser and retry.", False),
    (("available in your country", "geo restrict", "geo-restrict", "not available from your location",
      "blocked it in your country"),
     "This video is not available from this server's country (geo-blocked).", False),
    (("http error 429", "too many requests", "rate limit", "rate-limit"),
     "The site is rate-limiting downloads from this server.", True),
    (("removed", "deleted", "no longer available", "video unavailable", "does not exist", "http error 404",
      "not found", "has been terminated"),
     "This video is unavailable: it was removed, deleted or never existed. Check the link.", False),
    (("unsupported url",),
     "No video was found at this link: the page has no media that the downloader recognises.", False),
    (("timed out", "temporary failure", "connection reset", "connection refused", "network is unreachable",
      "http error 5", "name or service not known", "failed to resolve", "getaddrinfo"),
     "The site could not be reached; check the link and this server's network.", True),
]


def explain_download_error(message: str) -> MediaError:
    text = message.lower()
    for needles, explanation, transient in _YTDLP_MESSAGES:
        if any(n in text for n in needles):
            cls = TransientMediaError if transient else MediaError
            return cls(f"{explanation} (yt-dlp: {message.removeprefix('ERROR: ').strip()[:300]})")
    return MediaError(f"The video could not be downloaded: {message.removeprefix('ERROR: ').strip()[:400]}")


@dataclass
class Download:
    media_path: Path
    thumbnail_path: Path | None
    metadata: dict


def _ydl_options(settings: Settings, workdir: Path) -> dict:
    import deno

    no_programs = workdir / "no-external-programs"
    no_programs.mkdir(parents=True, exist_ok=True)
    options = {
        "format": "bestaudio/best",  # audio only where the site offers it
        "outtmpl": str(workdir / "source.%(ext)s"),
        "writethumbnail": True,
        "noplaylist": True,
        "quiet": True,
        "no_warnings": True,
        "noprogress": True,
        "socket_timeout": 30,
        "retries": 3,
        "js_runtimes": {"deno": {"path": deno.find_deno_bin()}},  # runs without network access
        "cachedir": str(settings.data_dir / "cache" / "yt-dlp"),
        "max_filesize": settings.max_download_mb * 1024 * 1024,
        # Every fetch is made by yt-dlp itself, in this process, where the address policy checks each
        # connection: HLS/DASH natively, and no ffmpeg for yt-dlp to hand a URL to (an empty folder).
        "external_downloader": {"default": "native"},
        "hls_prefer_native": True,
        "ffmpeg_location": str(no_programs),
    }
    if settings.cookies_file:
        options["cookiefile"] = str(settings.cookies_file)
    return options


def _native_downloader_class():
    import yt_dlp
    from yt_dlp.downloader import get_suitable_downloader
    from yt_dlp.downloader.external import ExternalFD
    from yt_dlp.downloader.rtmp import RtmpFD

    class NativeOnlyYoutubeDL(yt_dlp.YoutubeDL):
        """yt-dlp with only the fetchers whose connections Python makes (so the address policy sees them)."""

        PYTHON_REQUEST_HANDLERS = ("Urllib", "Requests", "Websockets")

        def build_request_director(self, handlers, preferences=None):
            # curl_cffi (browser impersonation) resolves host names in C, out of the policy's sight.
            handlers = [h for h in handlers if h.RH_KEY in self.PYTHON_REQUEST_HANDLERS]
            return super().build_request_director(handlers, preferences)

        def dl(self, name, info, subtitle=False, test=False):
            downloader = get_suitable_downloader(info, self.params, to_stdout=(name == "-"))
            if downloader is None or issubclass(downloader, (ExternalFD, RtmpFD)):
                raise MediaError(
                    f"This video is only offered as a {info.get('protocol') or 'stream'} stream that an external "
                    "program would have to fetch; such downloads are refused, because the app could not check "
                    "where that program connects.")
            return super().dl(name, info, subtitle=subtitle, test=test)

    return NativeOnlyYoutubeDL


def download(url: str, workdir: Path, settings: Settings, progress: Progress,
             on_details: Callable[[bool], None] | None = None) -> Download:
    """Fetch metadata, refuse what is too long, then download (audio only where possible).

    The fetching runs in a child process in which every connection is checked against the address
    policy as it is made (see core.sources.addresses); progress and the outcome come back from it. Once the
    video's details are read, before its media is fetched, `on_details` is called here with whether the
    creator's captions will stand in for speech-to-text.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    last = [0.0]

    def received(kind: str, *values) -> None:
        if kind == "details":
            if on_details:
                on_details(*values)
            return
        fraction, detail = values
        now = time.monotonic()
        if now - last[0] >= 0.2 or fraction >= 1.0:
            last[0] = now
            progress(fraction, detail)

    try:
        return run_guarded(AddressPolicy.from_settings(settings), _fetch_or_explain, (url, workdir, settings),
                           received)
    except RefusedConnection as exc:  # also when yt-dlp only warned, e.g. about a thumbnail it could not fetch
        raise MediaError(f"The link leads to a non-public address, which is refused: {exc}. Only public "
                         "addresses are fetched (ALLOWED_PRIVATE_HOSTS lists private hosts that may be used)."
                         ) from None
    except ProcessEnded as exc:
        raise TransientMediaError(f"The download stopped unexpectedly ({exc}).") from None


@dataclass
class Listing:
    """The videos of a playlist, channel or multi-video page, as yt-dlp lists them (nothing downloaded)."""

    title: str | None
    source_id: str | None
    urls: list[str]


def list_videos(url: str, settings: Settings, limit: int) -> Listing | None:
    """The first `limit` videos of a collection link (yt-dlp's flat extraction, in a guarded process), or
    None when the link turns out to be one video, or cannot be listed (its job then says why)."""
    try:
        return run_guarded(AddressPolicy.from_settings(settings), _flat_list, (url, settings, limit))
    except RefusedConnection as exc:
        raise MediaError(f"The link leads to a non-public address, which is refused: {exc}.") from None
    except Exception:  # noqa: BLE001 - not listable now: processed as one video, whose job reports the problem
        return None


def list_or_explain(url: str, settings: Settings, limit: int) -> Listing | None:
    """As list_videos, for a source that is followed: None when the link is one video; a source that cannot be
    listed says why (MediaError, TransientMediaError when it may work later)."""
    try:
        return run_guarded(AddressPolicy.from_settings(settings), _flat_list_or_explain, (url, settings, limit))
    except RefusedConnection as exc:
        raise MediaError(f"The link leads to a non-public address, which is refused: {exc}.") from None


def _flat_list_or_explain(report, url: str, settings: Settings, limit: int) -> Listing | None:
    import yt_dlp

    try:
        return _flat_list(report, url, settings, limit)
    except yt_dlp.utils.DownloadError as exc:
        raise explain_download_error(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - told to the person following it
        raise TransientMediaError(f"The source could not be listed: {type(exc).__name__}: {exc}") from None


def _flat_list(report, url: str, settings: Settings, limit: int) -> Listing | None:
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        options = _ydl_options(settings, Path(scratch)) | {"extract_flat": "in_playlist", "playlistend": limit,
                                                           "noplaylist": False}
        with _native_downloader_class()(options) as ydl:
            info = ydl.extract_info(url, download=False)
    if info.get("_type") not in ("playlist", "multi_video"):
        return None
    urls = [entry["url"] for entry in info.get("entries") or [] if entry and entry.get("url")][:limit]
    if info.get("extractor_key") == "Generic" and len(urls) < 2:
        return None  # a page with one video is that video
    return Listing(title=_capped(info.get("title"), MAX_TITLE_CHARS, one_line=True),
                   source_id=str(info["id"]) if info.get("id") else None, urls=urls)


def _fetch_or_explain(report: Callable, url: str, workdir: Path, settings: Settings) -> Download:
    """In the download's process: whatever goes wrong there comes back as a MediaError for the job."""
    try:
        return _fetch(report, url, workdir, settings)
    except MediaError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported to the job, which fails with it
        raise MediaError(f"The download failed unexpectedly: {type(exc).__name__}: {exc}") from None


def _fetch(report: Callable, url: str, workdir: Path, settings: Settings) -> Download:
    """`report("details", captions_expected)` once the details are read, `report("progress", fraction,
    detail)` as the media comes."""
    import yt_dlp

    def hook(status: dict) -> None:
        if status.get("status") == "downloading":
            total = status.get("total_bytes") or status.get("total_bytes_estimate")
            done = status.get("downloaded_bytes") or 0
            fraction = done / total if total else 0.0
            report("progress", fraction,
                   f"{done / 1e6:.1f} MB of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB")

    options = _ydl_options(settings, workdir) | {"progress_hooks": [hook]}
    try:
        with _native_downloader_class()(options) as ydl:
            info = ydl.extract_info(url, download=False)
            if info.get("_type") in ("playlist", "multi_video"):
                entries = [e for e in (info.get("entries") or []) if e]
                if len(entries) != 1:
                    raise MediaError("This link is a playlist or a channel; paste the link of a single video.")
                info = entries[0]
            duration = info.get("duration")
            if duration and duration > settings.max_duration_seconds:
                raise MediaError(
                    f"This video is {duration / 3600:.1f} hours long; the limit is "
                    f"{settings.max_duration_seconds / 3600:.1f} hours (MAX_DURATION_SECONDS)."
                )
            size = info.get("filesize") or info.get("filesize_approx")
            if size and size > settings.max_download_mb * 1024 * 1024:
                raise MediaError(f"This video's file is {size / 2**20:,.0f} MB; the limit is "
                                 f"{settings.max_download_mb:,} MB (MAX_DOWNLOAD_MB).")
            if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming", "post_live"):
                raise MediaError("This is a live or upcoming stream; process it once the recording is available.")
            chosen = choose_track(info, settings.platform_captions)
            report("details", chosen is not None)
            info = ydl.process_ie_result(info, download=True)
            captions = _fetch_captions(ydl, chosen, workdir)
    except yt_dlp.utils.DownloadError as exc:
        raise explain_download_error(str(exc)) from None

    media = [p for p in workdir.glob("source.*")
             if p.suffix.lower() not in THUMBNAIL_EXTS and not p.name.endswith(".part")]
    if not media:
        raise MediaError("The download produced no media file: it may be larger than MAX_DOWNLOAD_MB "
                         f"({settings.max_download_mb:,} MB), or the site sent nothing playable.")
    thumbs = [p for p in workdir.glob("source.*") if p.suffix.lower() in THUMBNAIL_EXTS]
    metadata = {
        "title": _capped(info.get("title"), MAX_TITLE_CHARS, one_line=True),
        "uploader": _capped(info.get("uploader") or info.get("channel") or info.get("uploader_id"), MAX_NAME_CHARS,
                            one_line=True),
        "duration": info.get("duration"),
        "upload_date": _iso_date(info.get("upload_date")),
        "description": _capped(info.get("description"), MAX_DESCRIPTION_CHARS),
        "thumbnail_url": info.get("thumbnail"),
        "webpage_url": info.get("webpage_url") or url,
        "captions": captions,
        # the creator's chapters, as yt-dlp reads them (YouTube's description timestamps, a site's own)
        "chapters": [{"start_time": c.get("start_time"), "end_time": c.get("end_time"),
                      "title": _capped(c.get("title"), MAX_TITLE_CHARS, one_line=True)}
                     for c in info.get("chapters") or []],
    }
    return Download(media_path=media[0], thumbnail_path=thumbs[0] if thumbs else None, metadata=metadata)


def _fetch_captions(ydl, chosen: tuple[str, dict] | None, workdir: Path) -> dict | None:
    """The captions track `chosen` by core.sources.captions.choose_track, saved beside the media, or None."""
    if chosen is None:
        return None
    language, track = chosen
    try:
        content = ydl.urlopen(track["url"]).read()
    except Exception:  # noqa: BLE001 - captions are a shortcut; without them the audio is transcribed
        return None
    path = workdir / f"captions.{track['ext']}"
    path.write_bytes(content)
    return {"path": str(path), "format": track["ext"], "language": language}


def _capped(text: str | None, limit: int, one_line: bool = False) -> str | None:
    """Site-provided text, without control characters and at most `limit` characters."""
    if not isinstance(text, str):
        return None
    text = "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127)).strip()
    if one_line:
        text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _iso_date(value: str | None) -> str | None:
    """yt-dlp's YYYYMMDD as YYYY-MM-DD; anything else a site sends is dropped."""
    if isinstance(value, str) and len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return None


@dataclass
class PreparedAudio:
    wav_path: Path          # audio.SPEECH, for speech-to-text
    stored_path: Path       # kept for playback: the sound track as it is (audio.AS_IS) or audio.PLAYBACK
    thumbnail_path: Path | None
    duration: float
    stored_sample_rate: int  # read from the stored file itself


def _probe(path: Path) -> dict:
    try:
        return audio.probe(path)
    except audio.AudioError as exc:
        raise MediaError(f"The downloaded file is not readable media ({exc}).") from None


def prepare(download: Download, workdir: Path, progress: Progress, max_duration: float,
            keep_as_is_max_kbps: int = 0) -> PreparedAudio:
    """The speech audio and the playback audio from one decoding of the download, and a thumbnail. A sound track
    browsers play, at most `keep_as_is_max_kbps`, is kept for playback as it is: no generation loss, and no
    encoding (the longest step before speech-to-text)."""
    info = _probe(download.media_path)
    streams = info.get("streams", [])
    if not any(s.get("codec_type") == "audio" for s in streams):
        raise MediaError("This video has no sound track, so there is nothing to transcribe.")
    duration = float(info.get("format", {}).get("duration") or download.metadata.get("duration") or 0)
    if duration > max_duration:  # sites that do not tell the duration before the download
        raise MediaError(f"This video is {duration / 3600:.1f} hours long; the limit is {max_duration / 3600:.1f} "
                         "hours (MAX_DURATION_SECONDS).")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="thumbnail") as beside:
        # The thumbnail's frame is taken by an ffmpeg of its own while the audio is converted (where the
        # duration, which places the frame, is known already).
        thumbnail = beside.submit(make_thumbnail, download, streams, duration, workdir) if duration else None
        wav, stored, duration, stored_rate = _convert_audio(download, info, duration, workdir, progress,
                                                            keep_as_is_max_kbps)
    if duration <= 0.1:
        raise MediaError("The sound track is empty.")
    thumbnail_path = thumbnail.result() if thumbnail else make_thumbnail(download, streams, duration, workdir)
    return PreparedAudio(wav, stored, thumbnail_path, duration, stored_rate)


def _convert_audio(download: Download, info: dict, duration: float, workdir: Path, progress: Progress,
                   keep_as_is_max_kbps: int) -> tuple[Path, Path, float, int]:
    """(speech WAV, playback file, duration, the playback file's sample rate) from one decoding of the
    download."""
    wav = workdir / "audio.wav"
    suffix, playback = audio.playable_as_is(info, keep_as_is_max_kbps) or (".mp3", audio.PLAYBACK)
    stored = workdir / f"audio{suffix}"
    try:
        try:
            audio.convert(download.media_path, [(wav, audio.SPEECH), (stored, playback)], duration or None, progress)
        except audio.AudioError:
            if playback is audio.PLAYBACK:
                raise
            # A stream its container cannot carry as it is (rare): encoded after all.
            log.info("the sound track of %s could not be kept as it is; encoding it", download.media_path.name)
            stored.unlink(missing_ok=True)
            stored = workdir / "audio.mp3"
            audio.convert(download.media_path, [(wav, audio.SPEECH), (stored, audio.PLAYBACK)], duration or None,
                          progress)
        return wav, stored, duration or audio.duration_of(wav), audio.sample_rate_of(stored)
    except audio.AudioError as exc:
        raise MediaError(f"ffmpeg could not convert the media: {exc}") from None


THUMBNAIL_WIDTH = 480


def make_thumbnail(download: Download, streams: list[dict], duration: float, workdir: Path) -> Path | None:
    """A 480-px JPEG from the site's thumbnail, else a frame of the video, else none."""
    target = workdir / "thumbnail.jpg"
    sources: list[tuple[Path, float | None]] = []
    if download.thumbnail_path:
        sources.append((download.thumbnail_path, None))
    if any(s.get("codec_type") == "video" and s.get("disposition", {}).get("attached_pic") != 1 for s in streams):
        sources.append((download.media_path, min(duration * 0.1, 5.0)))
    for source, at_seconds in sources:
        try:
            audio.still_image(source, target, THUMBNAIL_WIDTH, at_seconds)
        except audio.AudioError:
            continue
        if target.is_file() and target.stat().st_size > 0:
            return target
    return None
