"""Speakers found offline: is the number of speakers right, how much of the speech is attributed to the right
voice, how long it takes per audio minute, and which JOIN_DISTANCE (core.providers.diarize) to use.

    .venv/bin/python bench/speakers.py [--distances 0.2,0.25,0.3,0.35,0.4,0.45] [--keep /tmp/speakers]

Conversations are generated: flite's and espeak-ng's voices taking turns, with pauses and without, 2 and 3 voices,
and monologues; each is transcribed by the embedded speech-to-text (words and their times), then its windows'
voice prints are computed once and grouped at every distance. "Right share": the share of word time whose
speaker, under the best one-to-one matching of found speakers to true voices, is the voice that said it.
Voice prints of the same voice in two recordings, and of different voices, are compared too: the share of
same-voice pairs above each similarity threshold and of different-voice pairs above it (core.library.voices'
MATCH_SIMILARITY).
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VOICES = ["flite:slt", "flite:rms", "flite:awb", "flite:kal16", "en-us+m3", "en-gb+f2", "en-us+f4", "en+m7"]
SENTENCES = [
    "Welcome back to the show, today we are talking about gardens in small city flats.",
    "Thanks for having me, I have grown tomatoes on my balcony for six summers now.",
    "How much sun do the plants need on an ordinary day in July?",
    "At least six hours of direct light, and plenty of water in the evening.",
    "I would add that basil grows well beside them and keeps some insects away.",
    "What about the soil, do you buy it or make your own compost at home?",
    "I make my own from kitchen scraps in a small bin under the sink.",
    "That sounds easy enough, but does it smell in a small apartment?",
    "Not if you keep it covered and add dry leaves or paper now and then.",
    "Our listeners often ask which vegetables are easiest for beginners.",
    "Lettuce, radishes and beans are hard to get wrong, even in pots.",
    "Let us talk about the budget for a moment before we finish today.",
    "A first balcony garden costs less than a dinner for two in town.",
    "The pots can be old buckets, and seeds are cheap in early spring.",
    "Thank you both, this has been a lovely conversation about growing food.",
]


def scenarios(chooser: random.Random) -> list[tuple[str, list[tuple[str, str]], float]]:
    """(name, turns, pause) of each generated conversation."""
    made = []
    for number in range(4):
        pair = chooser.sample(VOICES, 2)
        trio = chooser.sample(VOICES, 3)
        lines = chooser.sample(SENTENCES, 9)
        made.append((f"two-{number}", [(pair[i % 2], lines[i]) for i in range(6)], 0.4))
        made.append((f"two-no-pause-{number}", [(pair[i % 2], lines[i]) for i in range(6)], 0.0))
        made.append((f"three-{number}", [(trio[i % 3], lines[i]) for i in range(9)], 0.3))
        made.append((f"monologue-{number}", [(pair[0], line) for line in lines[:5]], 0.3))
    return made


def truth_at(turns: list[tuple[float, float, str]], moment: float) -> str | None:
    return next((voice for start, end, voice in turns if start - 0.05 <= moment <= end + 0.05), None)


def right_share(segments, turns) -> float:
    from scipy.optimize import linear_sum_assignment

    voices = sorted({voice for *_, voice in turns})
    found = sorted({s.speaker for s in segments})
    overlap = np.zeros((len(found), len(voices)))
    total = 0.0
    for segment in segments:
        for word in segment.words or []:
            voice = truth_at(turns, (word.start + word.end) / 2)
            length = word.end - word.start
            total += length
            if voice is not None:
                overlap[found.index(segment.speaker), voices.index(voice)] += length
    rows, columns = linear_sum_assignment(-overlap)
    return float(overlap[rows, columns].sum() / total) if total else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--distances", default="0.2,0.25,0.3,0.35,0.4,0.45")
    parser.add_argument("--keep", type=Path, help="keep the generated audio and transcripts here (reused)")
    args = parser.parse_args()

    from core.config import Settings
    from core.providers import diarize
    from core.providers.transcribe import get_transcriber
    from core.sources.audio import duration_of
    from testkit.media import conversation

    folder = args.keep or Path(tempfile.mkdtemp(prefix="speakers-"))
    folder.mkdir(parents=True, exist_ok=True)
    transcriber = get_transcriber(Settings())
    cases = []
    listen_seconds = audio_seconds = 0.0
    for name, turns, pause in scenarios(random.Random(7)):
        wav = folder / f"{name}.wav"
        kept = folder / f"{name}.pickle"
        if kept.is_file():
            times, transcript = pickle.loads(kept.read_bytes())
        else:
            times = conversation(turns, wav, pause)
            transcript = transcriber.transcribe(wav, duration_of(wav), lambda *_: None)
            kept.write_bytes(pickle.dumps((times, transcript)))
        diarize.voice_encoder()  # built before the clock starts
        started = time.perf_counter()
        centres, prints = diarize.listen(wav, transcript.segments)
        listen_seconds += time.perf_counter() - started
        audio_seconds += duration_of(wav)
        cases.append((name, times, transcript, centres, prints))

    print(f"{len(cases)} conversations, {audio_seconds / 60:.1f} audio minutes; voice prints "
          f"{listen_seconds / audio_seconds * 60:.2f} s per audio minute")
    print(f"{'distance':>8} {'count right':>12} {'right share':>12} {'worst':>20}")
    for distance in [float(d) for d in args.distances.split(",")]:
        right, shares, worst = 0, [], (1.0, "")
        for name, times, transcript, centres, prints in cases:
            found = diarize.attribute(transcript.segments, centres, prints, 8, distance)
            true_count = len({voice for *_, voice in times})
            right += len(found.speakers) == true_count
            share = right_share(found.segments, times)
            shares.append(share)
            worst = min(worst, (share, f"{name}:{len(found.speakers)}/{true_count}"))
        marker = "  <- JOIN_DISTANCE" if abs(distance - diarize.JOIN_DISTANCE) < 1e-9 else ""
        print(f"{distance:8.2f} {right:>6}/{len(cases):<5} {np.mean(shares):12.3f} "
              f"{worst[0]:.2f} {worst[1]:>15}{marker}")

    # The same voice in two recordings, and different voices: one print per (recording, voice)
    prints_by_voice = []
    for name, times, transcript, centres, prints in cases:
        found = diarize.attribute(transcript.segments, centres, prints, 8)
        for speaker in found.speakers:
            said = [s for s in found.segments if s.speaker == speaker.id]
            votes = [truth_at(times, (s.start + s.end) / 2) for s in said]
            voice = max(set(votes), key=votes.count)
            prints_by_voice.append((name, voice, np.array(speaker.voice)))
    same, different = [], []
    for (name_a, voice_a, print_a), (name_b, voice_b, print_b) in itertools.combinations(prints_by_voice, 2):
        if name_a != name_b:
            (same if voice_a == voice_b else different).append(float(print_a @ print_b))
    print(f"\nvoice prints across recordings: {len(same)} same-voice pairs, {len(different)} different-voice pairs")
    print(f"same voice:      min {min(same):.3f}  p10 {np.percentile(same, 10):.3f}  median {np.median(same):.3f}")
    print(f"different voice: max {max(different):.3f}  p98 {np.percentile(different, 98):.3f}  "
          f"median {np.median(different):.3f}")
    for threshold in (0.70, 0.75, 0.80, 0.85, 0.90):
        print(f"  similarity >= {threshold:.2f}: same matched {np.mean(np.array(same) >= threshold):.1%}, "
              f"different wrongly matched {np.mean(np.array(different) >= threshold):.1%}")


if __name__ == "__main__":
    main()
