"""Who speaks in a video: the voices found, named once per video, their talk time."""

from __future__ import annotations

from core.jobs.submitting import require_job
from core.models import Speaker
from core.store import get_store

MAX_NAME_CHARS = 80


class SpeakerRefused(ValueError):
    """Names that cannot be given as asked (an unknown speaker, a name too long); nothing changed."""


def speakers(job_id: str) -> list[Speaker]:
    """The video's speakers in the order they first speak (empty: one voice, captions, or not found yet)."""
    store = get_store()
    require_job(store, job_id)
    transcript = store.get_transcript(job_id)
    return transcript.speakers if transcript else []


def parse_names(pairs: list[str]) -> dict[str, str | None]:
    """`S1=Ada` pairs (the CLI's --set) as {"S1": "Ada"}; `S1=` clears a name."""
    names: dict[str, str | None] = {}
    for pair in pairs:
        speaker, equals, name = pair.partition("=")
        if not equals or not speaker.strip():
            raise SpeakerRefused(f"{pair!r} is not SPEAKER=NAME (for example S1=Ada).")
        names[speaker.strip()] = name
    return names


def name_speakers(job_id: str, names: dict[str, str | None]) -> list[Speaker]:
    """Give speakers names ({"S1": "Ada"}); an empty name or null takes a name back. A name given confirms a
    suggestion; a suggestion that was not taken is dropped once another name is given."""
    store = get_store()
    require_job(store, job_id)
    transcript = store.get_transcript(job_id)
    found = {speaker.id: speaker for speaker in (transcript.speakers if transcript else [])}
    if not names:
        raise SpeakerRefused("No names given: send {\"S1\": \"Ada\"}.")
    unknown = [speaker for speaker in names if speaker not in found]
    if unknown:
        known = ", ".join(found) or "none (speakers are found when the video is processed)"
        raise SpeakerRefused(f"This video has no speaker {', '.join(unknown)}; its speakers: {known}.")
    cleaned = {speaker: " ".join((name or "").split()) or None for speaker, name in names.items()}
    too_long = [name for name in cleaned.values() if name and len(name) > MAX_NAME_CHARS]
    if too_long:
        raise SpeakerRefused(f"A name may hold up to {MAX_NAME_CHARS} characters.")
    updated = [speaker.model_copy(update={"name": cleaned[speaker.id], "suggested_name": None})
               if speaker.id in cleaned else speaker for speaker in transcript.speakers]
    store.save_speakers(job_id, updated)
    return updated
