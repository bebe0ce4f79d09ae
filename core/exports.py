"""A transcript as SRT, WebVTT, plain text, Markdown or JSON."""

from __future__ import annotations

import json

from core.formatting import clock
from core.models import Analysis, Job, Transcript

FORMATS = {"srt": "application/x-subrip", "vtt": "text/vtt", "txt": "text/plain", "md": "text/markdown",
           "json": "application/json"}


def _timestamp(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def export(job: Job, transcript: Transcript, analysis: Analysis | None, fmt: str) -> str:
    if fmt == "srt":
        return "\n".join(f"{i}\n{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}\n{s.text}\n"
                         for i, s in enumerate(transcript.segments, 1))
    if fmt == "vtt":
        return "WEBVTT\n\n" + "\n".join(f"{_timestamp(s.start, '.')} --> {_timestamp(s.end, '.')}\n{s.text}\n"
                                        for s in transcript.segments)
    if fmt == "txt":
        return "\n".join(s.text for s in transcript.segments) + "\n"
    if fmt == "md":
        lines = [f"# {job.title or job.url}", "", f"<{job.webpage_url or job.url}>", ""]
        if analysis:
            lines += ["## Summary", "", analysis.summary, "",
                      f"**Topics:** {', '.join(analysis.topics)}  ",
                      f"**Sentiment:** {analysis.sentiment.label} ({analysis.sentiment.score:+.2f})  ",
                      f"**Category:** {analysis.category}", ""]
        lines += ["## Transcript", ""] + [f"**[{clock(s.start)}]** {s.text}  " for s in transcript.segments]
        return "\n".join(lines) + "\n"
    if fmt == "json":
        return json.dumps({"job": job.public_dict(), "transcript": transcript.model_dump(mode="json"),
                           "analysis": analysis.model_dump(mode="json") if analysis else None},
                          indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")


def filename(job: Job, fmt: str) -> str:
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in (job.title or job.video_id))[:80].strip("-")
    return f"{stem or job.id}.{fmt}"
