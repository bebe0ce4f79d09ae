"""Test media made on the spot: speech from espeak-ng and flite, video from ffmpeg."""

from __future__ import annotations

import functools
import http.server
import socket
import subprocess
import threading
from pathlib import Path

import ffmpeg

VIDEO_OPTIONS = {"vcodec": "libx264", "preset": "ultrafast", "pix_fmt": "yuv420p"}


def speak(text: str, wav: Path, voice: str = "en-us", speed: int = 150) -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
    return wav


def speak_as(voice: str, text: str, wav: Path) -> Path:
    """A 16 kHz mono WAV of the text in a voice: "flite:slt" (flite's kal, kal16, awb, rms, slt) or an
    espeak-ng voice ("en-us+m3", "en-gb+f2"...)."""
    raw = wav.with_suffix(".raw.wav")
    if voice.startswith("flite:"):
        subprocess.run(["flite", "-voice", voice.split(":", 1)[1], "-t", text, "-o", str(raw)], check=True)
    else:
        speak(text, raw, voice)
    ffmpeg.input(str(raw)).output(str(wav), ac=1, ar=16000).global_args("-v", "error").overwrite_output().run()
    raw.unlink()
    return wav


def conversation(turns: list[tuple[str, str]], target: Path, pause: float = 0.4) -> list[tuple[float, float, str]]:
    """A 16 kHz mono WAV of voices taking turns ((voice, text) each, `pause` seconds of silence between turns, none
    when 0); returns each turn's (start, end, voice)."""
    from core.sources.audio import duration_of

    parts, times, moment = [], [], 0.0
    silence = target.with_suffix(".pause.wav")
    if pause > 0:
        ffmpeg.output(_generated(f"anullsrc=r=16000:cl=mono:d={pause}").audio, str(silence), ac=1).global_args(
            "-v", "error").overwrite_output().run()
    for number, (voice, text) in enumerate(turns):
        wav = speak_as(voice, text, target.with_suffix(f".{number}.wav"))
        length = duration_of(wav)
        if number and pause > 0:
            parts.append(silence)
            moment += pause
        parts.append(wav)
        times.append((round(moment, 3), round(moment + length, 3), voice))
        moment += length
    listing = target.with_suffix(".parts.txt")
    listing.write_text("".join(f"file '{part.resolve()}'\n" for part in parts))
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-ac", "1",
                    "-ar", "16000", str(target)], check=True)
    for part in {*parts, listing}:
        part.unlink()
    return times


def video_of(sound_wav: Path, target: Path) -> Path:
    """An MP4 with a test pattern and this WAV as its sound track."""
    return _test_pattern_video(target, ffmpeg.input(str(sound_wav)).audio)


def _generated(source: str):
    """A stream from one of ffmpeg's own generators (lavfi): test patterns, silence, tones."""
    return ffmpeg.input(source, f="lavfi")


def _test_pattern_video(target: Path, sound=None, seconds: float | None = None) -> Path:
    """An MP4 with a moving test pattern and the given audio stream (or no sound track)."""
    pattern = _generated("testsrc=size=320x240:rate=10" + (f":duration={seconds}" if seconds else "")).video
    if sound is None:
        graph = ffmpeg.output(pattern, str(target), **VIDEO_OPTIONS)
    else:
        graph = ffmpeg.output(pattern, sound, str(target), shortest=None, acodec="aac", **VIDEO_OPTIONS)
    graph.global_args("-v", "error").overwrite_output().run()
    return target


def video_with_speech(text: str, target: Path, voice: str = "en-us") -> Path:
    """A small MP4: a test pattern with the spoken text (in an espeak-ng voice) as its sound track."""
    wav = speak(text, target.with_suffix(".wav"), voice)
    _test_pattern_video(target, ffmpeg.input(str(wav)).audio)
    wav.unlink()
    return target


def video_with_spoken_parts(texts: list[str], target: Path, voice: str = "en-us") -> list[float]:
    """An MP4 whose sound track speaks each text in turn; returns the moments (seconds) where each part after the
    first begins."""
    from core.sources.audio import duration_of

    wavs = [speak(text, target.with_suffix(f".{number}.wav"), voice) for number, text in enumerate(texts)]
    starts, moment = [], 0.0
    for wav in wavs[:-1]:
        moment += duration_of(wav)
        starts.append(moment)
    sound = ffmpeg.concat(*(ffmpeg.input(str(wav)).audio for wav in wavs), v=0, a=1)
    _test_pattern_video(target, sound)
    for wav in wavs:
        wav.unlink()
    return starts


def with_chapters(source: Path, target: Path, chapters: list[tuple[float, float, str]]) -> Path:
    """A copy of an MP4 carrying chapters (start, end, title in seconds), as a creator's file would."""
    metadata = target.with_suffix(".chapters.txt")
    metadata.write_text(";FFMETADATA1\n" + "".join(
        f"[CHAPTER]\nTIMEBASE=1/1000\nSTART={int(start * 1000)}\nEND={int(end * 1000)}\ntitle={title}\n"
        for start, end, title in chapters))
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(source), "-i", str(metadata), "-map_metadata", "1",
                    "-map_chapters", "1", "-codec", "copy", str(target)], check=True)
    metadata.unlink()
    return target


def silent_video(target: Path, seconds: int = 5) -> Path:
    return _test_pattern_video(target, _generated(f"anullsrc=r=16000:cl=mono:d={seconds}").audio, seconds)


def instrumental_video(target: Path, seconds: int = 12) -> Path:
    """A chord with vibrato and tremolo: music without any voice."""
    chord = ("0.3*sin(2*PI*261.6*t)*(1+0.5*sin(2*PI*2*t))+0.3*sin(2*PI*329.6*t)"
             "+0.2*sin(2*PI*392*t*(1+0.01*sin(2*PI*0.5*t)))")
    return _test_pattern_video(target, _generated(f"aevalsrc={chord}:s=16000:d={seconds}").audio, seconds)


def video_without_audio(target: Path, seconds: int = 3) -> Path:
    return _test_pattern_video(target, None, seconds)


def tone(target: Path, seconds: float, frequency: int = 220) -> Path:
    """A mono 16 kHz WAV of a steady tone."""
    ffmpeg.output(_generated(f"sine=frequency={frequency}:sample_rate=16000:d={seconds}").audio, str(target),
                  ac=1).global_args("-v", "error").overwrite_output().run()
    return target


def still_picture(target: Path) -> Path:
    """A JPEG of the test pattern, as a site's thumbnail."""
    ffmpeg.output(_generated("testsrc=size=320x180").video, str(target), vframes=1).global_args(
        "-v", "error").overwrite_output().run()
    return target


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def copyfile(self, source, outputfile):
        try:
            super().copyfile(source, outputfile)
        except (BrokenPipeError, ConnectionResetError):
            pass  # yt-dlp's generic extractor reads the headers first and hangs up


def counting_handler() -> type[QuietHandler]:
    """A handler class that records the path of every request it receives in its `hits` list (an
    internal service that must never be reached)."""

    class Counting(QuietHandler):
        hits: list[str] = []
        lock = threading.Lock()

        def do_GET(self):  # noqa: N802 - http.server's naming
            with self.lock:
                self.hits.append(self.path)
            super().do_GET()

        do_HEAD = do_GET

    return Counting


def redirecting_handler(target: str, path: str = "/redirect.mp4") -> type[QuietHandler]:
    """A handler class that answers `path` with a redirect to `target`, and serves files otherwise."""

    class Redirecting(QuietHandler):
        def do_GET(self):  # noqa: N802
            if self.path.startswith(path):
                self.send_response(302)
                self.send_header("Location", target)
                self.end_headers()
                return
            super().do_GET()

        do_HEAD = do_GET

    return Redirecting


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(folder: Path, host: str = "127.0.0.1", handler_class=None) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve a folder over HTTP on a free port of a loopback address, like a small video site.
    Call .shutdown() to stop."""
    handler = functools.partial(handler_class or QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer((host, 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_port}"
