"""A transcript, or its translation, as SRT, WebVTT, plain text, Markdown or JSON."""

from __future__ import annotations

import json

from core.formatting import clock
from core.models import Analysis, Job, Transcript, Translation

#: Search-only fields of a segment, never part of a transcript file.
NOT_EXPORTED = {"segments": {"__all__": {"translation", "translation_language"}}}
FORMATS = {"srt": "application/x-subrip", "vtt": "text/vtt", "txt": "text/plain", "md": "text/markdown",
           "json": "application/json"}


def _timestamp(seconds: float, separator: str) -> str:
    millis = int(round(seconds * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def export(job: Job, original: Transcript, analysis: Analysis | None, fmt: str,
           translation: Translation | None = None) -> str:
    """The transcript in `fmt`; with a translation, the translation's text at the same times (JSON holds both)."""
    transcript = translation.as_transcript() if translation else original
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
        heading = f"Translation ({translation.language})" if translation else "Transcript"
        lines += [f"## {heading}", ""] + [f"**[{clock(s.start)}]** {s.text}  " for s in transcript.segments]
        return "\n".join(lines) + "\n"
    if fmt == "json":
        document = {"job": job.public_dict(), "transcript": original.model_dump(mode="json", exclude=NOT_EXPORTED),
                    "analysis": analysis.model_dump(mode="json") if analysis else None}
        if translation:
            document["translation"] = translation.model_dump(mode="json", exclude=NOT_EXPORTED)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")


def filename(job: Job, fmt: str, language: str | None = None) -> str:
    """'<title>.srt', or '<title>.en.srt' for a translation."""
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in (job.title or job.video_id))[:80].strip("-")
    return f"{stem or job.id}.{language + '.' if language else ''}{fmt}"
