"""Fetching media with yt-dlp and preparing it with ffmpeg. Everything works on files in a work dir."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from typing import Callable

from core.config import Settings

Progress = Callable[[float, str], None]
SAMPLE_RATE = 16_000
THUMBNAIL_EXTS = (".jpg", ".jpeg", ".png", ".webp", ".image")


class MediaError(Exception):
    """A problem with the video itself; retrying will not help. The message is for the user."""


class TransientMediaError(MediaError):
    """A problem that may go away (network, rate limit); the job is retried."""


# yt-dlp reports these situations only as text; map them to what the user should do.
_YTDLP_MESSAGES: list[tuple[tuple[str, ...], str, bool]] = [
    (("private video", "video is private", "this account is private"),
     "This video is private. Only videos you can watch without an invitation can be processed.", False),
    (("sign in to confirm your age", "age-restricted", "age restricted", "inappropriate for some users"),
     "This video is age-restricted. Set COOKIES_FILE to a cookies.txt of a logged-in account to process it.", False),
    (("login required", "log in", "sign in", "requires authentication", "cookies", "logged-in", "rate-limit reached or login"),
     "This site requires you to be logged in to watch this video. Set COOKIES_FILE to a cookies.txt exported from your browser and retry.", False),
    (("available in your country", "geo restrict", "geo-restrict", "not available from your location", "blocked it in your country"),
     "This video is not available from this server's country (geo-blocked).", False),
    (("http error 429", "too many requests", "rate limit", "rate-limit"),
     "The site is rate-limiting downloads from this server. The job will be retried; if it keeps failing, try again later.", True),
    (("removed", "deleted", "no longer available", "video unavailable", "does not exist", "http error 404", "not found", "has been terminated"),
     "This video is unavailable: it was removed, deleted or never existed. Check the link.", False),
    (("unsupported url",),
     "No video was found at this link: the page has no media that the downloader recognises.", False),
    (("timed out", "temporary failure", "connection reset", "connection refused", "network is unreachable", "http error 5", "name or service not known", "failed to resolve", "getaddrinfo"),
     "The site could not be reached. The job will be retried; check the link and the server's network if it keeps failing.", True),
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
        "js_runtimes": {"deno": {"path": deno.find_deno_bin()}},
        "cachedir": str(settings.data_dir / "cache" / "yt-dlp"),
        "max_filesize": settings.max_download_mb * 1024 * 1024,
    }
    if settings.cookies_file:
        options["cookiefile"] = str(settings.cookies_file)
    return options


def download(url: str, workdir: Path, settings: Settings, progress: Progress) -> Download:
    """Fetch metadata, refuse what is too long, then download (audio only where possible)."""
    import yt_dlp

    workdir.mkdir(parents=True, exist_ok=True)

    def hook(status: dict) -> None:
        if status.get("status") == "downloading":
            total = status.get("total_bytes") or status.get("total_bytes_estimate")
            done = status.get("downloaded_bytes") or 0
            fraction = done / total if total else 0.0
            progress(fraction, f"{done / 1e6:.1f} MB of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB")

    options = _ydl_options(settings, workdir) | {"progress_hooks": [hook]}
    try:
        with yt_dlp.YoutubeDL(options) as ydl:
            info = ydl.extract_info(url, download=False)
            if info.get("_type") in ("playlist", "multi_video"):
                entries = [e for e in (info.get("entries") or []) if e]
                if len(entries) != 1:
                    raise MediaError("This link is a playlist or a channel; paste the link of a single video.")
                info = entries[0]
            if not settings.allow_private_urls:
                _check_media_hosts(info)
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
            if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
                raise MediaError("This is a live or upcoming stream; process it once the recording is available.")
            info = ydl.process_ie_result(info, download=True)
    except yt_dlp.utils.DownloadError as exc:
        raise explain_download_error(str(exc)) from None

    media = [p for p in workdir.glob("source.*") if p.suffix.lower() not in THUMBNAIL_EXTS and not p.name.endswith(".part")]
    if not media:
        raise MediaError("The download produced no media file: it may be larger than MAX_DOWNLOAD_MB "
                         f"({settings.max_download_mb:,} MB), or the site sent nothing playable.")
    thumbs = [p for p in workdir.glob("source.*") if p.suffix.lower() in THUMBNAIL_EXTS]
    metadata = {
        "title": info.get("title"),
        "uploader": info.get("uploader") or info.get("channel") or info.get("uploader_id"),
        "duration": info.get("duration"),
        "upload_date": _iso_date(info.get("upload_date")),
        "description": info.get("description"),
        "thumbnail_url": info.get("thumbnail"),
        "webpage_url": info.get("webpage_url") or url,
    }
    return Download(media_path=media[0], thumbnail_path=thumbs[0] if thumbs else None, metadata=metadata)


def _check_media_hosts(info: dict) -> None:
    """The page may send yt-dlp elsewhere (redirects, embedded players): refuse private destinations."""
    from core.platforms import InvalidURL, check_host_is_public

    urls = [info.get("webpage_url"), info.get("url")]
    urls += [f.get("url") for f in info.get("requested_formats") or []]
    for url in filter(None, urls):
        try:
            check_host_is_public(urlsplit(url).hostname or "")
        except InvalidURL as exc:
            raise MediaError(f"The link leads to media on a non-public address, which is refused: {exc}") from None


def _iso_date(value: str | None) -> str | None:
    if value and len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def probe(path: Path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise MediaError(f"The downloaded file is not readable media ({result.stderr.strip()[:200]}).")
    return json.loads(result.stdout)


def _run_ffmpeg(args: list[str], total_seconds: float | None, progress: Progress | None) -> None:
    command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-progress", "pipe:1", *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if progress and total_seconds and line.startswith("out_time_us="):
            try:
                done = int(line.split("=", 1)[1]) / 1e6
            except ValueError:
                continue
            progress(min(1.0, done / total_seconds), f"{done:.0f} s of {total_seconds:.0f} s")
    stderr = process.stderr.read()
    if process.wait() != 0:
        raise MediaError(f"ffmpeg could not convert the media: {stderr.strip()[-300:]}")


@dataclass
class PreparedAudio:
    wav_path: Path          # 16 kHz mono PCM, for speech-to-text
    stored_path: Path       # compact mono MP3, kept for playback
    thumbnail_path: Path | None
    duration: float


def prepare(download: Download, workdir: Path, progress: Progress, max_duration: float) -> PreparedAudio:
    info = probe(download.media_path)
    streams = info.get("streams", [])
    if not any(s.get("codec_type") == "audio" for s in streams):
        raise MediaError("This video has no sound track, so there is nothing to transcribe.")
    duration = float(info.get("format", {}).get("duration") or download.metadata.get("duration") or 0)
    if duration > max_duration:  # sites that do not tell the duration before the download
        raise MediaError(f"This video is {duration / 3600:.1f} hours long; the limit is {max_duration / 3600:.1f} "
                         "hours (MAX_DURATION_SECONDS).")
    wav = workdir / "audio.wav"
    stored = workdir / "audio.mp3"
    _run_ffmpeg(
        ["-i", str(download.media_path), "-map", "0:a:0",
         "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", str(wav),
         "-vn", "-ac", "1", "-ar", "22050", "-c:a", "libmp3lame", "-b:a", "48k", str(stored)],
        duration or None, progress,
    )
    if not duration:
        duration = float(probe(wav).get("format", {}).get("duration") or 0)
    if duration <= 0.1:
        raise MediaError("The sound track is empty.")
    return PreparedAudio(wav, stored, make_thumbnail(download, streams, duration, workdir), duration)


def make_thumbnail(download: Download, streams: list[dict], duration: float, workdir: Path) -> Path | None:
    """A 480-px JPEG from the site's thumbnail, else a frame of the video, else none."""
    target = workdir / "thumbnail.jpg"
    sources: list[list[str]] = []
    if download.thumbnail_path:
        sources.append(["-i", str(download.thumbnail_path)])
    if any(s.get("codec_type") == "video" and s.get("disposition", {}).get("attached_pic") != 1 for s in streams):
        sources.append(["-ss", f"{min(duration * 0.1, 5.0):.2f}", "-i", str(download.media_path)])
    for source in sources:
        try:
            _run_ffmpeg([*source, "-frames:v", "1", "-vf", "scale=480:-2", "-q:v", "4", str(target)], None, None)
        except MediaError:
            continue
        if target.is_file() and target.stat().st_size > 0:
            return target
    return None
