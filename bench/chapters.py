"""Generated chapters: how close the found boundaries lie to where a talk really changes subject, whether the titles
name the subject, and how long finding them takes.

    .venv/bin/python bench/chapters.py [--talks 12] [--depths 0.3,0.4,0.5,0.6,0.7]

Talks are generated from the subjects of bench/themes.py: each talk 3 to 5 subjects in turn, each subject 70 to 160 s
of 5-s segments drawn from its sentences (real embeddings, all-MiniLM-L6-v2), some talks with subjects that share
words (gardening then cooking). For each MIN_DEPTH: true boundaries found within 10 s (recall), found boundaries
within 10 s of a true one (precision), the mean distance of those matched; and for the one in
core.library.chapters, titles holding a word of their subject's vocabulary, and the time per talk.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEGMENT_SECONDS = 5.0
NEAR = 10.0


def talk(chooser: random.Random, subjects: dict) -> tuple[list, list[float], list[str]]:
    """Segments of a talk, its true boundaries, and the subject of each part."""
    from core.models import Segment

    names = chooser.sample(list(subjects), chooser.randint(3, 5))
    segments, cuts, t = [], [], 0.0
    for number, name in enumerate(names):
        if number:
            cuts.append(t)
        pool = subjects[name][1]
        for _ in range(int(chooser.uniform(70, 160) // SEGMENT_SECONDS)):
            segments.append(Segment(start=t, end=t + SEGMENT_SECONDS - 0.3, text=chooser.choice(pool)))
            t += SEGMENT_SECONDS
    return segments, cuts, names


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--talks", type=int, default=12)
    parser.add_argument("--depths", default="0.3,0.4,0.5,0.6,0.7")
    args = parser.parse_args()

    from bench.themes import SUBJECTS
    from core.config import get_settings
    from core.library import chapters
    from core.models import Segment
    from core.providers.embed import get_embedder

    embedder = get_embedder(get_settings())
    chooser = random.Random(2026)
    talks = []
    for _ in range(args.talks):
        segments, cuts, names = talk(chooser, SUBJECTS)
        talks.append((segments, embedder.embed([s.text for s in segments]), cuts, names))
    monologues = []
    for name in list(SUBJECTS)[:6]:  # one subject for 5 to 10 minutes: no chapter should be found
        pool = SUBJECTS[name][1]
        segments = [Segment(start=i * SEGMENT_SECONDS, end=(i + 1) * SEGMENT_SECONDS - 0.3, text=chooser.choice(pool))
                    for i in range(chooser.randint(60, 120))]
        monologues.append((segments, embedder.embed([s.text for s in segments])))
    print(f"{len(talks)} generated talks, {sum(len(c) for _, _, c, _ in talks)} true boundaries; "
          f"{len(monologues)} talks of one subject")
    chosen = chapters.MIN_DEPTH
    for depth in sorted({float(d) for d in args.depths.split(",")} | {chosen}):
        chapters.MIN_DEPTH = depth
        found_total = matched_true = matched_found = 0
        distances = []
        for segments, vectors, cuts, _ in talks:
            starts = np.array([s.start for s in segments])
            found = chapters.boundaries(starts, vectors, segments[-1].end)
            found_total += len(found)
            for cut in cuts:
                near = [abs(f - cut) for f in found if abs(f - cut) <= NEAR]
                if near:
                    matched_true += 1
                    distances.append(min(near))
            matched_found += sum(1 for f in found if any(abs(f - cut) <= NEAR for cut in cuts))
        true_total = sum(len(c) for _, _, c, _ in talks)
        mark = "  <- MIN_DEPTH" if depth == chosen else ""
        print(f"  min depth {depth:.2f}: recall {matched_true}/{true_total}, precision {matched_found}/{found_total},"
              f" mean distance {np.mean(distances) if distances else float('nan'):.1f} s{mark}")
        single = sum(len(chapters.boundaries(np.array([s.start for s in segments]), vectors, segments[-1].end))
                     for segments, vectors in monologues)
        print(f"{'':>18}talks of one subject split {single} times")
    chapters.MIN_DEPTH = chosen
    named = total = 0
    began = time.perf_counter()
    for segments, vectors, _cuts, names in talks:
        found = chapters.generated_chapters(segments, vectors, segments[-1].end)
        for chapter in found:
            middle = (chapter.start + chapter.end) / 2
            subject = names[min(len(names) - 1, sum(1 for cut in _cuts if cut <= middle))]
            total += 1
            named += any(word in chapter.title.lower() for word in SUBJECTS[subject][0])
    per_talk = (time.perf_counter() - began) / len(talks)
    print(f"  titles holding a word of their subject: {named}/{total}; {1000 * per_talk:.0f} ms per talk "
          f"(~{np.mean([len(s) for s, _, _, _ in talks]):.0f} segments)")
    example = chapters.generated_chapters(talks[0][0], talks[0][1], talks[0][0][-1].end)
    print("  e.g.: " + " | ".join(f"{c.start:.0f}s {c.title}" for c in example) + f"  (truth: {talks[0][3]}, "
          f"cuts {talks[0][2]})")


if __name__ == "__main__":
    main()
