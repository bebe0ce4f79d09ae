"""Creator captions as the transcript: which track to take from what yt-dlp reports, and timed segments
from its file (WebVTT, SRT, TTML, YouTube's json3). No speech-to-text runs for a captioned video."""

from __future__ import annotations

import html
import json
import re
import warnings

from core.models import Segment, Transcript

#: The caption formats read here, best first.
READABLE_FORMATS = ("vtt", "srt", "ttml", "json3")
_TAG = re.compile(r"<[^>]+>")


def choose_track(info: dict, mode: str) -> tuple[str, dict] | None:
    """(language, track) of the captions to use, or None. `mode` is PLATFORM_CAPTIONS: `creator` takes the
    creator's own track in the video's language as the site states it (or the only creator track);
    `also-automatic` falls back on the site's automatic captions in that language; `never` takes none."""
    if mode == "never":
        return None
    stated = (info.get("language") or "").lower().split("-")[0]
    pools = [(info.get("subtitles") or {}, True)]
    if mode == "also-automatic":
        pools.append((info.get("automatic_captions") or {}, False))
    for pool, by_creator in pools:
        tracks = {lang: _readable(formats) for lang, formats in pool.items() if lang != "live_chat"}
        tracks = {lang: track for lang, track in tracks.items() if track}
        chosen = next((lang for lang in tracks if stated and lang.lower().split("-")[0] == stated), None)
        if chosen is None and by_creator and len(tracks) == 1:
            chosen = next(iter(tracks))
        if chosen is not None:
            return chosen, tracks[chosen]
    return None


def _readable(formats: list[dict]) -> dict | None:
    by_ext = {f.get("ext"): f for f in formats or [] if f.get("url")}
    return next((by_ext[ext] for ext in READABLE_FORMATS if ext in by_ext), None)


def segments_from(text: str, fmt: str) -> list[Segment]:
    """Timed segments from a caption file's text; cues without words are left out."""
    if fmt == "json3":
        cues = _json3_cues(text)
    else:
        import pycaption  # loaded only for captioned videos

        reader = {"vtt": pycaption.WebVTTReader, "srt": pycaption.SRTReader}.get(fmt, pycaption.DFXPReader)()
        with warnings.catch_warnings():  # TTML is XML that pycaption reads with an HTML parser, as it should
            warnings.simplefilter("ignore")
            captions = reader.read(text)
        languages = captions.get_languages()
        cues = [(c.start / 1e6, c.end / 1e6, c.get_text()) for c in captions.get_captions(languages[0])] \
            if languages else []
    segments = []
    for start, end, raw in cues:
        words = " ".join(html.unescape(_TAG.sub("", raw)).split())
        if words and end > start:
            if segments and segments[-1].text == words and start - segments[-1].end < 0.05:
                segments[-1] = segments[-1].model_copy(update={"end": round(end, 3)})  # a cue split in two
            else:
                segments.append(Segment(start=round(start, 3), end=round(end, 3), text=words))
    return segments


def _json3_cues(text: str) -> list[tuple[float, float, str]]:
    cues = []
    for event in json.loads(text).get("events", []):
        words = "".join(seg.get("utf8", "") for seg in event.get("segs") or [])
        if "tStartMs" in event and words.strip():
            start = event["tStartMs"] / 1000
            cues.append((start, start + event.get("dDurationMs", 0) / 1000, words))
    return cues


def transcript_from(text: str, fmt: str, language: str) -> Transcript | None:
    """The whole transcript from a caption file, or None when it holds no words."""
    segments = segments_from(text, fmt)
    if not segments:
        return None
    return Transcript(text=" ".join(s.text for s in segments), language=language.split("-")[0].lower(),
                      segments=segments, engine=f"captions:{fmt}")
