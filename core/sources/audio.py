"""The audio formats the app writes, and every ffmpeg/ffprobe call, built with ffmpeg-python."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ffmpeg


class AudioError(Exception):
    """ffmpeg could not read or convert a file; the message says what it reported."""


@dataclass(frozen=True)
class AudioFormat:
    sample_rate: int
    codec: str
    bitrate: str | None = None  # for lossy codecs
    compression_level: int | None = None  # the encoder's speed/effort trade (LAME: 0 slowest ... 9 fastest)
    muxer_options: tuple[tuple[str, str], ...] = ()

    def output_args(self) -> dict:
        if self.codec == "copy":  # the stream as it is: no decoding, resampling or encoding
            return {"acodec": "copy", **dict(self.muxer_options)}
        args = {"ac": 1, "ar": self.sample_rate, "acodec": self.codec}
        if self.bitrate:
            args["audio_bitrate"] = self.bitrate
        if self.compression_level is not None:
            args["compression_level"] = self.compression_level
        return args


#: What speech-to-text reads: 16 kHz mono 16-bit PCM (Whisper's own rate).
SPEECH = AudioFormat(16_000, "pcm_s16le")
# LAME's -q 7 ("fast") for both MP3s: 2.2x quicker than its default -q 3 (3.2 s -> 1.4 s for 10 minutes, the
# longest step before speech-to-text), the same size, and no worse on speech at these bitrates.
#: What the library keeps for playback: compact mono MP3, clear enough for speech.
PLAYBACK = AudioFormat(22_050, "libmp3lame", "48k", compression_level=7)
#: What is uploaded to a hosted speech-to-text API: small pieces far below its 25 MB limit.
UPLOAD = AudioFormat(16_000, "libmp3lame", "32k", compression_level=7)
#: Sound tracks every current browser plays, kept for playback as they are (see playable_as_is): the file suffix
#: for each codec, and the stream copied into it (an M4A with its index first, so playback starts at once).
AS_IS = {"aac": (".m4a", AudioFormat(0, "copy", muxer_options=(("movflags", "+faststart"),))),
         "mp3": (".mp3", AudioFormat(0, "copy"))}


def playable_as_is(info: dict, max_kbps: int) -> tuple[str, AudioFormat] | None:
    """The suffix and format under which the first audio stream of a probed file (`info`, from `probe`) can be
    kept for playback without re-encoding: a codec browsers play, at most `max_kbps` kilobits per second.
    None when it must be re-encoded (other codecs, higher or unknown bitrates, or `max_kbps` 0)."""
    streams = info.get("streams", [])
    sound = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if not max_kbps or sound is None or sound.get("codec_name") not in AS_IS:
        return None
    # Containers such as WebM state the bitrate only for the whole file: usable when the sound is all it holds.
    bitrate = sound.get("bit_rate") or (info.get("format", {}).get("bit_rate") if len(streams) == 1 else None)
    try:
        kbps = int(bitrate) / 1000
    except (TypeError, ValueError):
        return None
    return AS_IS[sound["codec_name"]] if 0 < kbps <= max_kbps else None


def probe(path: Path) -> dict:
    """ffprobe's description of a file (format and streams)."""
    try:
        return ffmpeg.probe(str(path))
    except ffmpeg.Error as exc:
        raise AudioError((exc.stderr or b"").decode(errors="replace").strip()[:200] or "ffprobe failed") from None


def duration_of(path: Path) -> float:
    return float(probe(path).get("format", {}).get("duration") or 0)


def chapters_of(path: Path) -> list[dict]:
    """The chapters stored in a media file (MP4 chapters, Matroska's, ID3 CHAP frames): start, end and title."""
    try:
        found = ffmpeg.probe(str(path), show_chapters=None).get("chapters", [])
    except ffmpeg.Error:
        return []
    return [{"start_time": float(c.get("start_time") or 0), "end_time": float(c.get("end_time") or 0),
             "title": (c.get("tags") or {}).get("title", "")} for c in found]


def sample_rate_of(path: Path) -> int:
    """The sample rate of a file's first audio stream, read from the file itself."""
    streams = [s for s in probe(path).get("streams", []) if s.get("codec_type") == "audio"]
    return int(streams[0]["sample_rate"]) if streams else 0


def run(stream, total_seconds: float | None = None, progress: Callable[[float, str], None] | None = None) -> None:
    """Run an ffmpeg-python graph, reporting progress read from `-progress pipe:1` against `total_seconds`."""
    process = (stream.global_args("-nostdin", "-hide_banner", "-loglevel", "error", "-progress", "pipe:1")
               .overwrite_output().run_async(pipe_stdout=True, pipe_stderr=True))
    for raw in process.stdout:
        line = raw.decode(errors="replace")
        if progress and total_seconds and line.startswith("out_time_us="):
            try:
                done = int(line.split("=", 1)[1]) / 1e6
            except ValueError:
                continue
            progress(min(1.0, done / total_seconds), f"{done:.0f} s of {total_seconds:.0f} s")
    stderr = process.stderr.read().decode(errors="replace")
    if process.wait() != 0:
        raise AudioError(stderr.strip()[-300:] or f"ffmpeg exited with {process.returncode}")


def convert(source: Path, outputs: list[tuple[Path, AudioFormat]], total_seconds: float | None = None,
            progress: Callable[[float, str], None] | None = None, start: float | None = None,
            length: float | None = None) -> None:
    """Decode the first audio stream of `source` once (from `start`, for `length` seconds) into each
    (file, format) of `outputs`."""
    options = {k: v for k, v in (("ss", start), ("t", length)) if v is not None}
    audio = ffmpeg.input(str(source), **options)["a:0"]
    graphs = [ffmpeg.output(audio, str(target), **fmt.output_args()) for target, fmt in outputs]
    run(graphs[0] if len(graphs) == 1 else ffmpeg.merge_outputs(*graphs), total_seconds, progress)


def still_image(source: Path, target: Path, width: int, at_seconds: float | None = None) -> None:
    """One JPEG frame of `source` (an image, or a video at `at_seconds`), `width` pixels wide."""
    options = {"ss": f"{at_seconds:.2f}"} if at_seconds is not None else {}
    picture = ffmpeg.input(str(source), **options).video.filter("scale", width, -2)
    run(ffmpeg.output(picture, str(target), vframes=1, **{"q:v": 4}))
