"""How times, durations and statuses read, the same in the CLI and the pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from core.models import Job, Stage
from core.text import content_words, stem


def clock(seconds: float | None) -> str:
    """0:07, 12:34 or 1:02:03."""
    if seconds is None:
        return "–"
    seconds = int(seconds)
    hours, minutes, secs = seconds // 3600, seconds // 60 % 60, seconds % 60
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def interval(seconds: float) -> str:
    """'45 s', '15 min', '6 h', '1.5 h', '2 d': how often something happens."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}" if seconds % size == 0 else f"{seconds / size:.1f} {unit}"
    return f"{seconds:g} s"


def status_line(job: Job) -> str:
    """'📝 Transcribing — 12 s of 40 s of audio' / '❌ Failed while downloading'."""
    icon = job.status.icon
    if job.status == Stage.FAILED:
        return f"{icon} Failed while {job.stage.label.lower()}"
    text = f"{icon} {job.status.label}"
    if not job.is_final and job.progress_detail:
        text += f" — {job.progress_detail}"
    return text


def literal(text: str | None) -> str:
    """Text from a site or a person, as Markdown that shows it exactly as written, on one line: no
    formatting, links, images, HTML, maths or colours can come out of it."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join((text or "").split()))


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation mark may be escaped


def highlight(text: str, query: str) -> str:
    """Markdown of `text` with the query's meaningful words in bold, in any form ('strawberry' marks
    'strawberries')."""
    terms = [stem(term) for term in content_words(query)]
    escaped = literal(text)
    if not terms:
        return escaped
    pattern = re.compile(r"\b(" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + r")\w*",
                         re.IGNORECASE)
    return pattern.sub(lambda m: f"**{m.group(0)}**", escaped)


PENDING_HINT_AFTER = 60  # seconds without a worker taking the job
STALLED_HINT_AFTER = 600  # seconds without any progress report


NO_WORKER = "No worker is running, so nothing is processed: `scripts/run.sh` starts one, or run `python worker.py`."


def waiting_hint(job: Job, now: datetime | None = None, workers: int | None = None) -> str | None:
    """A word for the user when a job has not moved for a while, or None. `workers`: how many serve the
    queue, when known."""
    if job.is_final:
        return None
    if workers == 0:
        return NO_WORKER
    now = now or datetime.now(UTC)
    idle = (now - datetime.fromisoformat(job.updated_at)).total_seconds()
    minutes = max(1, int(idle // 60))
    if job.status == Stage.PENDING and job.error:
        return None  # waiting for the queue's next try, which its progress line announces
    if job.status == Stage.PENDING and idle > PENDING_HINT_AFTER:
        return (f"Waiting for a worker for {minutes} min. Is one running? `scripts/run.sh` starts one; "
                "otherwise run `python worker.py`.")
    if job.status != Stage.PENDING and idle > STALLED_HINT_AFTER:
        return (f"No progress for {minutes} min. If its worker stopped, the job is taken up again by a "
                "running worker within a few minutes and resumes from this stage.")
    return None
