"""Who speaks when, offline: voice prints of overlapping 1.6-s windows of the speech, grouped by voice.

Only the stretches where the transcript has words are looked at (speech-to-text already found the speech).
Each window's voice print (core.providers.voice_prints) is compared with every other's; windows are grouped
bottom-up (average linkage) until the closest two groups sound less alike than the network's JOIN_DISTANCES,
which bench/speakers.py calibrated on generated conversations, so the number of speakers is found, not asked. Each
word then takes the voice of the window centred nearest to it, and segments are split where the voice
changes."""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.models import Segment, Speaker, Transcript, Word
from core.providers import campplus
from core.providers.voice_prints import HOP, SAMPLE_RATE, WINDOW_FRAMES, WavFrames, voice_encoder

log = logging.getLogger(__name__)

FRAMES_PER_SECOND = SAMPLE_RATE // HOP
WINDOW_STEP_FRAMES = 50  # a window every 0.5 s: turns placed within ~0.25 s
#: Per voice-print network (SPEAKER_MODEL): the cosine distance below which two groups of windows are one voice,
#: calibrated in bench/speakers.py (GE2E: right in 16 of 16 conversations from 0.34 to 0.38; CAM++: 0.36 to 0.50).
JOIN_DISTANCES = {"ge2e": 0.36, "campplus": 0.43}
JOIN_DISTANCE = JOIN_DISTANCES["ge2e"]
MIN_SPEAKER_SECONDS = 2.0  # a group holding less speech is folded into the nearest voice (a cough, a mixed window)
SPEECH_GAP_SECONDS = 0.5  # words closer than this belong to one stretch of speech
BATCH = 64
#: Windows grouped at once, at most: grouping compares every pair (memory and time grow with the square), so a long
#: talk's windows are grouped from this many spread evenly through it, and every window then joins the nearest group.
MAX_GROUPED = 1500


@dataclass
class Diarization:
    segments: list[Segment]
    speakers: list[Speaker] = field(default_factory=list)


def speech_spans(segments: list[Segment]) -> list[tuple[float, float]]:
    """Stretches of speech, from the words' times (the segments' where there are no words)."""
    pieces = sorted((w.start, w.end) for s in segments for w in (s.words or [Word(start=s.start, end=s.end,
                                                                                  text=s.text)]))
    spans: list[list[float]] = []
    for start, end in pieces:
        if spans and start - spans[-1][1] <= SPEECH_GAP_SECONDS:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [(start, end) for start, end in spans if end > start]


def window_starts(spans: list[tuple[float, float]], total_frames: int) -> list[int]:
    """First frames of the windows covering the speech: every WINDOW_STEP_FRAMES inside a stretch, one centred
    on a stretch too short to hold a window."""
    starts: set[int] = set()
    latest = max(0, total_frames - WINDOW_FRAMES)
    for start, end in spans:
        first, last = int(start * FRAMES_PER_SECOND), int(end * FRAMES_PER_SECOND)
        if last - first <= WINDOW_FRAMES:
            starts.add(min(latest, max(0, (first + last - WINDOW_FRAMES) // 2)))
            continue
        for frame in range(first, last - WINDOW_FRAMES + 1, WINDOW_STEP_FRAMES):
            starts.add(min(latest, frame))
        starts.add(min(latest, last - WINDOW_FRAMES))
    return sorted(starts)


def group_voices(prints: np.ndarray, max_speakers: int, join_distance: float = JOIN_DISTANCE) -> np.ndarray:
    """A voice number per window: average-linkage groups closer than join_distance, at most max_speakers."""
    if len(prints) < 2:
        return np.zeros(len(prints), dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    grouped = prints
    if len(prints) > MAX_GROUPED:
        grouped = prints[np.linspace(0, len(prints) - 1, MAX_GROUPED).round().astype(int)]
    labels = AgglomerativeClustering(n_clusters=None, distance_threshold=join_distance, metric="cosine",
                                     linkage="average").fit_predict(grouped)
    if labels.max() + 1 > max_speakers:
        labels = AgglomerativeClustering(n_clusters=max_speakers, metric="cosine",
                                         linkage="average").fit_predict(grouped)
    if grouped is prints:
        return labels
    centres = np.stack([_unit(grouped[labels == label].mean(axis=0)) for label in range(labels.max() + 1)])
    return np.argmax(prints @ centres.T, axis=1)


def _fold_small(labels: np.ndarray, prints: np.ndarray, window_seconds: float) -> np.ndarray:
    """Groups with less than MIN_SPEAKER_SECONDS of windows join the voice nearest to them."""
    counts = Counter(labels.tolist())
    keep = [label for label, count in counts.items() if count * window_seconds >= MIN_SPEAKER_SECONDS]
    if not keep:
        return np.zeros_like(labels)
    centres = {label: _unit(prints[labels == label].mean(axis=0)) for label in counts}
    folded = labels.copy()
    for label in counts:
        if label not in keep:
            nearest = max(keep, key=lambda other: float(centres[label] @ centres[other]))
            folded[labels == label] = nearest
    return folded


def _unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _voice_at(moment: float, centres: np.ndarray, labels: np.ndarray) -> int:
    """The voice of the window centred nearest to a moment (`centres` ascending)."""
    after = int(np.searchsorted(centres, moment))
    nearest = after if after == 0 or (after < len(centres) and centres[after] - moment < moment - centres[after - 1]) \
        else after - 1
    return int(labels[nearest])


def _split(segment: Segment, voices: list[int]) -> list[tuple[Segment, int]]:
    """The segment cut where its words' voice changes; each piece with its voice."""
    words = segment.words or []
    pieces: list[tuple[list[Word], int]] = []
    for word, voice in zip(words, voices, strict=True):
        if pieces and pieces[-1][1] == voice:
            pieces[-1][0].append(word)
        else:
            pieces.append(([word], voice))
    if len(pieces) <= 1:
        return [(segment, voices[0])]
    return [(Segment(start=group[0].start if i else segment.start,
                     end=group[-1].end if i < len(pieces) - 1 else segment.end,
                     text=" ".join(w.text for w in group), words=group), voice)
            for i, (group, voice) in enumerate(pieces)]


def _smoothed(voices: list[int]) -> list[int]:
    """A lone word between two words of one other voice is taken as that voice's (a window straddling a turn)."""
    smoothed = list(voices)
    for i in range(1, len(voices) - 1):
        if voices[i - 1] == voices[i + 1] != voices[i]:
            smoothed[i] = voices[i - 1]
    return smoothed


def encoder_for(network: str, threads: int = 1):
    """The voice-print network SPEAKER_MODEL names, built (once per process)."""
    return campplus.campplus_encoder(threads) if network == "campplus" else voice_encoder(threads)


def listen(wav_path: Path, segments: list[Segment], progress: Callable[[float, str], None] = lambda *_: None,
           threads: int = 1, network: str = "ge2e") -> tuple[np.ndarray, np.ndarray]:
    """(centre second, voice print) of the windows covering the speech: [n] and [n, 256]. The audio is read a
    batch of windows at a time, so a long talk takes no more memory than a short one. `network`: GE2E, or CAM++
    (compared in bench/speakers.py)."""
    audio = WavFrames(wav_path)
    try:
        starts = window_starts(speech_spans(segments), max(audio.count, WINDOW_FRAMES))
        if not starts or audio.count < WINDOW_FRAMES // 4:
            return np.zeros(0), np.zeros((0, 1), np.float32)
        encoder = encoder_for(network, threads)
        prints = []
        for first in range(0, len(starts), BATCH):
            batch = starts[first:first + BATCH]
            if network == "campplus":
                windows = np.stack([campplus.window_features(audio.samples(s * HOP, (s + WINDOW_FRAMES) * HOP))
                                    for s in batch])
            elif batch[-1] - batch[0] <= BATCH * WINDOW_STEP_FRAMES * 2:  # close together: their frames read once
                mels = audio.between(batch[0], batch[-1] + WINDOW_FRAMES)
                windows = np.stack([mels[s - batch[0]:s - batch[0] + WINDOW_FRAMES] for s in batch])
            else:
                windows = np.stack([audio.between(s, s + WINDOW_FRAMES) for s in batch])
            prints.append(encoder(windows))
            progress(min(0.95, (first + len(batch)) / len(starts) * 0.95), "listening to the voices")
    finally:
        audio.close()
    return (np.array(starts) + WINDOW_FRAMES / 2) / FRAMES_PER_SECOND, np.concatenate(prints)


def attribute(segments: list[Segment], centres: np.ndarray, prints: np.ndarray, max_speakers: int,
              join_distance: float = JOIN_DISTANCE, network: str = "ge2e") -> Diarization:
    """The segments split where the voice changes, each with its speaker, from the windows' voice prints."""
    if len(prints) == 0:
        return Diarization(segments=segments)
    labels = _fold_small(group_voices(prints, max(1, max_speakers), join_distance), prints,
                         WINDOW_STEP_FRAMES / FRAMES_PER_SECOND)
    word_voices = iter(_smoothed([_voice_at((w.start + w.end) / 2, centres, labels)
                                  for segment in segments for w in segment.words or []]))
    pieces: list[tuple[Segment, int]] = []
    for segment in segments:
        if segment.words:
            pieces.extend(_split(segment, [next(word_voices) for _ in segment.words]))
        else:
            pieces.append((segment, _voice_at((segment.start + segment.end) / 2, centres, labels)))

    return _named(pieces, {voice: _unit(prints[labels == voice].mean(axis=0)) for voice in set(labels.tolist())},
                  network)


def _named(pieces: list[tuple[Segment, int]], prints_of: dict[int, np.ndarray], network: str) -> Diarization:
    """Segments with their voice numbers as speakers S1, S2... in the order they first speak, with talk time and
    voice prints."""
    order = list(dict.fromkeys(voice for _, voice in pieces))
    names = {voice: f"S{number}" for number, voice in enumerate(order, start=1)}
    seconds: Counter = Counter()
    for segment, voice in pieces:
        seconds[voice] += sum(w.end - w.start for w in segment.words) if segment.words else segment.end - segment.start
    speakers = [Speaker(id=names[voice], seconds=round(seconds[voice], 1),
                        voice=[round(float(v), 5) for v in prints_of[voice]] if voice in prints_of else None,
                        voice_model=network if voice in prints_of else None)
                for voice in order]
    return Diarization(segments=[segment.model_copy(update={"speaker": names[voice]}) for segment, voice in pieces],
                       speakers=speakers)


def match_labels(wav_path: Path, transcript: Transcript, max_speakers: int,
                 progress: Callable[[float, str], None] = lambda *_: None, threads: int = 1,
                 network: str = "ge2e") -> Diarization:
    """Speakers labelled piece by piece by the transcriber ("0:A", "1:A"...: a hosted model diarizes each
    10-minute piece on its own) joined into one set: each label's voice print from the windows of its segments,
    and labels of different pieces whose prints are closer than the network's join distance taken as one speaker
    (two labels of one piece never are: the model told them apart)."""
    centres, prints = listen(wav_path, transcript.segments, progress, threads, network)
    labels = list(dict.fromkeys(s.speaker for s in transcript.segments if s.speaker))
    spans = np.array([(s.start, s.end) for s in transcript.segments])
    owner = [transcript.segments[int(np.argmin(np.maximum(spans[:, 0] - t, 0) + np.maximum(t - spans[:, 1], 0)))]
             .speaker for t in centres] if len(centres) else []
    label_prints = {label: _unit(prints[[o == label for o in owner]].mean(axis=0))
                    for label in labels if any(o == label for o in owner)}
    groups = [[label] for label in labels]

    def piece_of(label: str) -> str:
        return label.split(":", 1)[0]

    def closeness(a: list[str], b: list[str]) -> float:
        pairs = [float(label_prints[x] @ label_prints[y]) for x in a for y in b
                 if x in label_prints and y in label_prints]
        return float(np.mean(pairs)) if pairs else -1.0

    while True:  # average linkage, never joining two labels of one piece
        best = None
        for i, j in itertools.combinations(range(len(groups)), 2):
            if {piece_of(x) for x in groups[i]} & {piece_of(y) for y in groups[j]}:
                continue
            similarity = closeness(groups[i], groups[j])
            wanted = 1 - similarity < JOIN_DISTANCES[network] or len(groups) > max_speakers
            if wanted and (best is None or similarity > best[0]):
                best = (similarity, i, j)
        if best is None:
            break
        _, i, j = best
        groups[i] += groups.pop(j)
    voice_of = {label: number for number, group in enumerate(groups) for label in group}
    pieces = [(segment, voice_of[segment.speaker] if segment.speaker else -1) for segment in transcript.segments]
    prints_of = {number: _unit(np.mean([label_prints[x] for x in group if x in label_prints], axis=0))
                 for number, group in enumerate(groups) if any(x in label_prints for x in group)}
    found = _named(pieces, prints_of, network)
    progress(1.0, f"{len(found.speakers)} speaker{'s' if len(found.speakers) != 1 else ''}")
    return found


def diarize(wav_path: Path, transcript: Transcript, max_speakers: int,
            progress: Callable[[float, str], None] = lambda *_: None, threads: int = 1,
            network: str = "ge2e") -> Diarization:
    """The transcript's segments, split where the speaker changes and each with its speaker, and the speakers
    (S1, S2... in order of first words) with their talk time and voice print."""
    centres, prints = listen(wav_path, transcript.segments, progress, threads, network)
    found = attribute(transcript.segments, centres, prints, max_speakers, JOIN_DISTANCES[network], network)
    progress(1.0, f"{len(found.speakers)} speaker{'s' if len(found.speakers) != 1 else ''}")
    return found
