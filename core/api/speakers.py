"""Who speaks in a video: the voices found, named once per video, their talk time; and the people the library
knows by voice, whose names new videos' speakers are matched with."""

from __future__ import annotations

from core.config import Settings, get_settings
from core.jobs.submitting import require_job
from core.library import voices as voice_prints
from core.models import Speaker, VoiceSample, VoiceView
from core.store import Store, get_store

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


def name_speakers(job_id: str, names: dict[str, str | None], settings: Settings | None = None) -> list[Speaker]:
    """Give speakers names ({"S1": "Ada"}); an empty name or null takes a name back (and rejects a suggestion). A
    name given confirms a suggestion, and with VOICE_PROFILES the speaker's voice joins that person's print."""
    settings = settings or get_settings()
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
    _keep_voices(store, job_id, [speaker for speaker in updated if speaker.id in cleaned], settings)
    return updated


def _keep_voices(store: Store, job_id: str, renamed: list[Speaker], settings: Settings) -> None:
    """Who spoke how long under each name (talk time per person), with the voice print where VOICE_PROFILES keeps
    them."""
    for speaker in renamed:
        if speaker.name:
            voice = speaker.voice if speaker.voice and settings.voice_profiles == "on" else []
            store.save_voice_sample(VoiceSample(job_id=job_id, speaker=speaker.id, name=speaker.name,
                                                seconds=speaker.seconds, voice=voice,
                                                model=speaker.voice_model or "ge2e"))
        else:
            store.remove_voice_sample(job_id, speaker.id)


def voices() -> list[VoiceView]:
    """The people the library knows by voice (a voice print is kept), the most heard first."""
    return [person for person in people() if person.recognised]


def people(job_ids: list[str] | None = None) -> list[VoiceView]:
    """Everyone named in the library's videos (or in these), with their talk time, the most heard first."""
    return voice_prints.summaries(get_store().get_voice_samples(with_voices=False),
                                  set(job_ids) if job_ids is not None else None)


def forget_voice(name: str) -> int:
    """Delete a person's voice print (the names given in videos, and their talk time, stay); how many videos'
    voices it was made from."""
    if not (name or "").strip():
        raise SpeakerRefused("Say whose voice to forget.")
    forgotten = get_store().forget_voice(name)
    if not forgotten:
        raise LookupError(f"No voice print of {name!r}: `voices` lists the people the library knows.")
    return forgotten
