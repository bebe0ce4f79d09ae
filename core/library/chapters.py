"""A video's chapters: the creator's (yt-dlp's, or those stored in the media file), else, for a long talk, found in
its transcript where the subject changes (the segments' vectors on either side of a moment stop resembling each
other, as TextTiling finds them in text), each titled by the words that set it apart from the other chapters and
summed up in a sentence."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable

import numpy as np

from core.library.themes import keywords
from core.models import Chapter, Segment
from core.providers.analyze import summarize

#: No generated chapter is shorter than this.
MIN_CHAPTER_SECONDS = 60.0
#: How much talk on each side of a moment is compared to decide whether the subject changes there: wide enough
#: that a talk on one subject does not seem to change it between two sentences.
WINDOW_SECONDS = 90.0
#: A change of subject drops the similarity of the two sides at least this far below the peaks around it
#: (TextTiling's depth score, 0 to 2). Calibrated in bench/chapters.py on generated talks: at 0.4 39 of 40 changes
#: of subject found and talks of one subject never split, at 0.5 37 of 40 (the deepest dips inside a talk of one
#: subject reach 0.3-0.5).
MIN_DEPTH = 0.45
TITLE_WORDS = 2


def creator_chapters(raw: list[dict], duration: float | None) -> list[Chapter]:
    """The creator's chapters as the library keeps them: in order, each ending where the next starts (or the video
    ends), untitled ones numbered; none when there is only one."""
    found = sorted((float(c["start_time"]), c.get("end_time"), (c.get("title") or "").strip()) for c in raw
                   if c.get("start_time") is not None and float(c["start_time"]) >= 0)
    chapters = []
    for number, (start, end, title) in enumerate(found):
        following = found[number + 1][0] if number + 1 < len(found) else None
        end = following if following is not None else float(end or duration or start)
        if end > start:
            chapters.append(Chapter(start=start, end=end, title=title or f"Chapter {number + 1}", source="creator"))
    return chapters if len(chapters) >= 2 else []


def boundaries(starts: np.ndarray, vectors: np.ndarray, duration: float) -> list[float]:
    """The moments (segment starts) where the subject changes."""
    if len(starts) < 4 or duration < 2 * MIN_CHAPTER_SECONDS:
        return []
    scores = np.full(len(starts), np.nan)
    for i in range(1, len(starts)):
        left = vectors[(starts >= starts[i] - WINDOW_SECONDS) & (starts < starts[i])]
        right = vectors[(starts >= starts[i]) & (starts < starts[i] + WINDOW_SECONDS)]
        if len(left) and len(right):
            a, b = left.mean(axis=0), right.mean(axis=0)
            scores[i] = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-9))
    depth = np.zeros(len(starts))
    for i in np.flatnonzero(~np.isnan(scores)):
        depth[i] = _climb(scores, i, -1) + _climb(scores, i, 1) - 2 * scores[i]
    chosen: list[float] = []
    for i in np.argsort(-depth, kind="stable"):
        moment = float(starts[i])
        if depth[i] < MIN_DEPTH:
            break
        if (moment < MIN_CHAPTER_SECONDS or duration - moment < MIN_CHAPTER_SECONDS
                or any(abs(moment - other) < MIN_CHAPTER_SECONDS for other in chosen)):
            continue
        chosen.append(moment)
    return sorted(chosen)


def _climb(scores: np.ndarray, i: int, step: int) -> float:
    """The highest similarity reached walking from `i` while it keeps rising (TextTiling's peak on that side)."""
    peak, j = scores[i], i + step
    while 0 <= j < len(scores) and not np.isnan(scores[j]) and scores[j] >= peak:
        peak, j = scores[j], j + step
    return float(peak)


def generated_chapters(segments: list[Segment], vectors: np.ndarray, duration: float,
                       titler: Callable[[list[str]], list[str | None]] | None = None) -> list[Chapter]:
    """Chapters where a talk changes subject, titled (by `titler`, a hosted model, where given; else by the words that
    set each apart) and summed up; none for a talk of one subject."""
    starts = np.array([segment.start for segment in segments], dtype=float)
    cuts = boundaries(starts, np.asarray(vectors, dtype=np.float32), duration)
    if not cuts:
        return []
    edges = [0.0, *cuts, max(duration, float(segments[-1].end))]
    groups = [[segment.text for segment in segments if start <= segment.start < end]
              for start, end in zip(edges, edges[1:], strict=False)]
    words = keywords(groups)
    written = titler([" ".join(group) for group in groups]) if titler else [None] * len(groups)
    chapters = []
    for number, (start, end) in enumerate(zip(edges, edges[1:], strict=False)):
        title = written[number] or ", ".join(words[number][:TITLE_WORDS]) or f"Part {number + 1}"
        chapters.append(Chapter(start=start, end=end, title=title[:1].upper() + title[1:], source="generated",
                                summary=summarize(" ".join(groups[number]), 1) or None))
    return chapters


def chapter_parts(segments: list[Segment], chapters: list[Chapter]) -> list[tuple[int, int]]:
    """The segments of each chapter, [first, stop) in transcript order (a segment is in the chapter its start falls
    in), for a video of two chapters or more long enough to be about something of their own (a chapter shorter than
    MIN_CHAPTER_SECONDS gets an empty range); none for a video of one subject. The library's themes group these parts
    of a long video rather than the whole, so a talk that changes subject joins each subject's theme."""
    if len(chapters) < 2:
        return []
    starts = [segment.start for segment in segments]
    edges = [0, *(bisect_left(starts, chapter.start) for chapter in chapters[1:]), len(segments)]
    parts = [(first, stop) if chapter.end - chapter.start >= MIN_CHAPTER_SECONDS else (first, first)
             for chapter, first, stop in zip(chapters, edges, edges[1:], strict=False)]
    return parts if sum(stop > first for first, stop in parts) >= 2 else []
