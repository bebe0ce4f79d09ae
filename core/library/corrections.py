"""Corrections of a transcript: a line's new text keeps the times of the words it replaces (aligned by edit distance;
inserted words share their neighbours' span), a name misheard everywhere is replaced in every line at once, and a
correction can be taken back."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from core.models import Edit, SegmentChange, Transcript, Word

_TOKEN = re.compile(r"\S+")


def _key(word: str) -> str:
    return re.sub(r"[^\w']", "", word.casefold())


def retimed(words: list[Word] | None, text: str, start: float, end: float) -> list[Word] | None:
    """The words of `text` with times: a word kept keeps its time, words replacing others share those words' span
    evenly, inserted words share the gap between their neighbours (or the segment's edge)."""
    new = _TOKEN.findall(text)
    if not words or not new:
        return None
    old = [word.text.strip() for word in words]
    timed: list[Word] = []
    matcher = SequenceMatcher(a=[_key(w) for w in old], b=[_key(w) for w in new], autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            timed += [words[a0 + i].model_copy(update={"text": new[b0 + i]}) for i in range(b1 - b0)]
            continue
        if b1 == b0:  # words deleted
            continue
        if tag == "replace":
            span_start, span_end = words[a0].start, words[a1 - 1].end
        else:  # inserted: between the word before and the word after
            span_start = words[a0 - 1].end if a0 > 0 else start
            span_end = words[a0].start if a0 < len(words) else end
        step = max(span_end - span_start, 0.0) / (b1 - b0)
        timed += [Word(start=round(span_start + i * step, 3), end=round(span_start + (i + 1) * step, 3),
                       text=new[b0 + i]) for i in range(b1 - b0)]
    return timed


def with_changes(transcript: Transcript, changes: list[SegmentChange]) -> Transcript:
    """The transcript with each change's line given its new text (times kept, words retimed)."""
    segments = list(transcript.segments)
    for change in changes:
        old = segments[change.index]
        segments[change.index] = old.model_copy(update={
            "text": change.after, "words": retimed(old.words, change.after, old.start, old.end)})
    return transcript.model_copy(update={"segments": segments,
                                         "text": " ".join(s.text.strip() for s in segments if s.text.strip())})


def replacements(transcript: Transcript, old: str, new: str) -> list[SegmentChange]:
    """Every line holding `old` as whole words (any case), with it replaced by `new`."""
    pattern = re.compile(rf"(?<!\w){re.escape(old.strip())}(?!\w)", re.IGNORECASE)
    changes = []
    for index, segment in enumerate(transcript.segments):
        after = pattern.sub(new.strip(), segment.text)
        if after != segment.text:
            changes.append(SegmentChange(index=index, before=segment.text, after=after))
    return changes


def last_undoable(edits: list[Edit]) -> Edit | None:
    """The latest correction not yet taken back (undos are not themselves undone: correct again instead)."""
    return next((edit for edit in reversed(edits) if edit.standing), None)


def taken_back(edit: Edit) -> list[SegmentChange]:
    return [SegmentChange(index=c.index, before=c.after, after=c.before) for c in reversed(edit.changes)]
