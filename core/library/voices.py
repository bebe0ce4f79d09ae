"""A name follows the voice: each named person's voice print, and the names a new video's speakers sound like;
and who is named in the library, with their talk time.

A person's print is the mean of the voice prints of the speakers named so in any video, each weighted by its talk
time, so it is refined by every video that names them. A new speaker takes the name of the closest print as a
suggestion when their cosine similarity reaches MATCH_SIMILARITY for the network that made both prints, calibrated in
bench/speakers.py: with GE2E at 0.80, generated voices in other recordings matched 95-100 %, different voices wrongly
1.0 % (0.75 would wrongly match 2.0 %); with CAM++ at 0.70, 100 % and 1.0 % (0.60 would wrongly match 15 %). Prints
of different networks are never compared."""

from __future__ import annotations

import numpy as np

from core.models import Speaker, VoiceSample, VoiceView

MATCH_SIMILARITY = {"ge2e": 0.80, "campplus": 0.70}


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def prints(samples: list[VoiceSample], model: str) -> dict[str, tuple[str, np.ndarray]]:
    """Each person's (name as last given, voice print) from one network's prints, by key."""
    sums: dict[str, list] = {}
    for sample in samples:
        if not sample.voice or sample.model != model:
            continue
        entry = sums.setdefault(sample.person, [sample.name, 0.0])
        entry[0] = sample.name
        entry[1] = entry[1] + max(sample.seconds, 1.0) * _unit(np.asarray(sample.voice, dtype=np.float64))
    return {person: (name, _unit(total)) for person, (name, total) in sums.items()}


def summaries(samples: list[VoiceSample], job_ids: set[str] | None = None) -> list[VoiceView]:
    """The people named in the library's videos (or in these), the most heard first."""
    people: dict[str, VoiceView] = {}
    videos: dict[str, set[str]] = {}
    for sample in samples:
        if job_ids is not None and sample.job_id not in job_ids:
            continue
        person = sample.person
        view = people.setdefault(person, VoiceView(name=sample.name, videos=0, seconds=0.0, recognised=False))
        view.name = sample.name
        view.recognised = view.recognised or sample.has_voice
        view.seconds = round(view.seconds + sample.seconds, 1)
        videos.setdefault(person, set()).add(sample.job_id)
        view.videos = len(videos[person])
    return sorted(people.values(), key=lambda view: (-view.seconds, view.name.casefold()))


def suggest(speakers: list[Speaker], samples: list[VoiceSample], job_id: str | None = None) -> list[Speaker]:
    """The speakers, each unnamed one whose voice sounds like a known person's with that name suggested; a person
    is suggested for one speaker of a video at most, the closest. A video's own samples are left out (its
    speakers would recognise themselves)."""
    model = next((speaker.voice_model for speaker in speakers if speaker.voice_model), None)
    known = prints([sample for sample in samples if sample.job_id != job_id], model) if model else {}
    if not known:
        return speakers
    threshold = MATCH_SIMILARITY.get(model, 1.0)
    names = list(known)
    matrix = np.stack([known[person][1] for person in names])
    pairs = []
    for number, speaker in enumerate(speakers):
        if speaker.name or not speaker.voice or speaker.voice_model != model:
            continue
        similarity = matrix @ _unit(np.asarray(speaker.voice, dtype=np.float64))
        pairs += [(float(value), number, person) for person, value in zip(names, similarity, strict=True)
                  if value >= threshold]
    suggested: dict[int, str] = {}
    taken: set[str] = set()
    for _, number, person in sorted(pairs, reverse=True):
        if number not in suggested and person not in taken:
            suggested[number] = known[person][0]
            taken.add(person)
    return [speaker.model_copy(update={"suggested_name": suggested.get(number)}) if number in suggested else speaker
            for number, speaker in enumerate(speakers)]
