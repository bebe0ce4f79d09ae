"""A transcript, or its translation, as SRT, WebVTT, plain text, Markdown or JSON; a video's chapters as a WebVTT
chapters file (and as headings in the text and Markdown, and in the JSON)."""

from __future__ import annotations

import json

from core.formatting import clock
from core.models import Analysis, Job, Transcript, Translation, chapters_by_segment

#: Search-only fields of a segment, and the speakers' voice prints, never part of a transcript file.
NOT_EXPORTED = {"segments": {"__all__": {"translation", "translation_language", "speaker_name"}},
                "speakers": {"__all__": {"voice", "voice_model"}}}
FORMATS = {"srt": "application/x-subrip", "vtt": "text/vtt", "txt": "text/plain", "md": "text/markdown",
           "json": "application/json", "chapters": "text/vtt"}
#: The file name's ending, where it is not the format's name.
EXTENSIONS = {"chapters": "chapters.vtt"}


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
    said_by = _speaker_labels(original, len(transcript.segments))
    if fmt == "chapters":
        if not job.chapters:
            raise LookupError(f"Job {job.id} has no chapters: its creator gave none and it is shorter than "
                              "CHAPTERS_MIN_SECONDS, or its talk keeps to one subject.")
        return "WEBVTT\n\n" + "\n".join(f"{i}\n{_timestamp(c.start, '.')} --> {_timestamp(c.end, '.')}\n{c.title}\n"
                                        for i, c in enumerate(job.chapters, 1))
    if fmt == "srt":
        return "\n".join(f"{i}\n{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}\n{_line(s.text, who)}\n"
                         for i, (s, who) in enumerate(zip(transcript.segments, said_by, strict=True), 1))
    if fmt == "vtt":
        return "WEBVTT\n\n" + "\n".join(
            f"{_timestamp(s.start, '.')} --> {_timestamp(s.end, '.')}\n{_voice_tag(who)}{_cue_text(s.text)}\n"
            for s, who in zip(transcript.segments, said_by, strict=True))
    if fmt == "txt":
        lines = []
        for (segment, chapter), who in zip(_with_chapters(transcript, job), said_by, strict=True):
            if chapter:
                lines += [""] if lines else []
                lines += [f"{chapter.title} [{clock(chapter.start)}]", ""]
            lines.append(_line(segment.text, who))
        return "\n".join(lines) + "\n"
    if fmt == "md":
        lines = [f"# {job.title or job.url}", "", f"<{job.webpage_url or job.url}>", ""]
        if analysis:
            lines += ["## Summary", "", analysis.summary, "",
                      f"**Topics:** {', '.join(analysis.topics)}  ",
                      f"**Sentiment:** {analysis.sentiment.label} ({analysis.sentiment.score:+.2f})  ",
                      f"**Category:** {analysis.category}", ""]
        if job.chapters:
            lines += ["## Chapters", ""] + [f"- **[{clock(c.start)}]** {c.title}" for c in job.chapters] + [""]
        heading = f"Translation ({translation.language})" if translation else "Transcript"
        lines += [f"## {heading}", ""]
        for (segment, chapter), who in zip(_with_chapters(transcript, job), said_by, strict=True):
            if chapter:
                lines += ["", f"### {chapter.title}", ""]
            lines.append(f"**[{clock(segment.start)}]** {_line(segment.text, who)}  ")
        return "\n".join(lines) + "\n"
    if fmt == "json":
        document = {"job": job.public_dict(), "transcript": original.model_dump(mode="json", exclude=NOT_EXPORTED),
                    "analysis": analysis.model_dump(mode="json") if analysis else None}
        if translation:
            document["translation"] = translation.model_dump(mode="json", exclude=NOT_EXPORTED)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")


def _speaker_labels(original: Transcript, count: int) -> list[str | None]:
    """Who says each of `count` segments (the transcript's, or its translation's at the same index): the speaker's
    name, else its id; None where no speakers were found."""
    names = original.speaker_names()
    labels = [names.get(s.speaker, s.speaker) if s.speaker else None for s in original.segments]
    return (labels + [None] * count)[:count]


def _line(text: str, who: str | None) -> str:
    return f"{who}: {text}" if who else text


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cue_text(text: str) -> str:
    """A WebVTT cue's text: its markup characters escaped, and no blank line (which would end the cue)."""
    return _escaped(" ".join(text.split()))


def _voice_tag(who: str | None) -> str:
    return f"<v {_escaped(who)}>" if who else ""


def _with_chapters(transcript: Transcript, job: Job):
    """Each segment, with the chapter that starts at it (None for the others)."""
    for segment, starting in chapters_by_segment(transcript.segments, job.chapters):
        yield segment, starting[-1] if starting else None


def filename(job: Job, fmt: str, language: str | None = None) -> str:
    """'<title>.srt', '<title>.en.srt' for a translation, '<title>.chapters.vtt'."""
    stem = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in (job.title or job.video_id))[:80].strip("-")
    return f"{stem or job.id}.{language + '.' if language else ''}{EXTENSIONS.get(fmt, fmt)}"
