"""How well the offline engines understand speech: WER per speech-to-text candidate, search hit@1 and MRR,
sentiment and category agreement, on spoken clips generated with espeak-ng; and for Spanish and German
clips, how good their translation is (share of the expected English content words), whether the sentiment
and an English paraphrase query still find them, and what the translating step costs in time as a share
of the transcribing step's. Then the engines alone on 23 clips in five languages under each CPU path a machine
may take (testkit.quality.CPU_PATHS): the scores, the time, which clips come out differently from this CPU's
own choice, and how each way of forming a video's overall sentiment from its sentences fares.

    .venv/bin/python bench/quality.py [--paths-only]

The clips and the scoring are in testkit/quality.py; tests/test_quality.py holds the same scores to
floors.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testkit.media import serve  # noqa: E402
from testkit.quality import (  # noqa: E402
    CLIPS,
    CPU_PATHS,
    engine_scores_under,
    make_clips,
    make_engine_clips,
    make_foreign_clips,
    normalise,
    speech_to_text_scores,
    translation_scores,
    understanding_scores,
)


def sentiment_ways(segments: list[str]) -> dict[str, float]:
    """The overall score of a video from its sentences, formed each way considered."""
    from core.providers.analyze import overall_sentiment, sentiment_analyzer

    scores = [sentiment_analyzer().polarity_scores(text)["compound"] for text in segments]
    lengths = [max(1, len(text)) for text in segments]
    return {
        "sentence mean (used)": overall_sentiment(scores, segments),
        "length-weighted mean": float(np.average(scores, weights=lengths)) if scores else 0.0,
        "whole text": sentiment_analyzer().polarity_scores(" ".join(segments))["compound"],
    }


def cpu_paths(tmp: Path) -> None:
    from core.models import sentiment_label

    clips = make_engine_clips(tmp / "engine-clips")
    (tmp / "paths-data").mkdir()
    results = {}
    print(f"\n{'CPU path':<22}{'WER':>6}{'words kept':>12}{'moods':>7}{'languages':>11}{'seconds':>9}")
    for name, environment in CPU_PATHS.items():
        began = time.perf_counter()
        results[name] = scores = engine_scores_under(environment, clips, tmp / "paths-data")
        total = len(scores["clips"])
        print(f"{name:<22}{scores['wer']:>6.1%}{scores['word_share']:>12.0%}{scores['moods_right']:>4}/{total}"
              f"{scores['languages_right']:>8}/{total}{time.perf_counter() - began:>9.1f}")
    import jiwer

    reference = results["this-cpu"]["clips"]
    for name, scores in list(results.items())[1:]:
        changed = [clip for clip, found in scores["clips"].items()
                   if normalise(found["text"]) != normalise(reference[clip]["text"])]
        differ = jiwer.wer([normalise(reference[clip]["text"]) for clip in reference],
                           [normalise(scores["clips"][clip]["text"]) for clip in reference])
        print(f"  {name}: {len(changed)} of {len(reference)} clips read differently from this-cpu ({differ:.1%} of "
              "the words):", ", ".join(changed))
    print(f"\n{'overall sentiment formed as':<26}" + "".join(f"{name:>22}" for name in results))
    for way in sentiment_ways([]):
        right = [sum(sentiment_label(sentiment_ways(found["segments"])[way]) == found["expected"]
                     for found in scores["clips"].values()) for scores in results.values()]
        print(f"{way:<26}" + "".join(f"{count:>19}/{len(reference)}" for count in right))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paths-only", action="store_true", help="only the engines under each CPU path")
    args = parser.parse_args()
    if args.paths_only:
        with tempfile.TemporaryDirectory() as tmp:
            cpu_paths(Path(tmp))
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(DATA_DIR=str(Path(tmp) / "data"), ALLOW_PRIVATE_URLS="true")
        videos = make_clips(Path(tmp) / "site")
        make_foreign_clips(Path(tmp) / "site")
        server, url = serve(Path(tmp) / "site")
        try:
            stt = speech_to_text_scores(videos, Path(tmp) / "data")
            understanding = understanding_scores(url)
            translations = translation_scores(url)  # in the same library: found among the English clips
        finally:
            server.shutdown()
    print(f"{len(CLIPS)} espeak-ng clips\n")
    print(f"{'speech-to-text':<16}{'WER':>8}{'speed (x real time)':>22}")
    for name, score in stt.items():
        print(f"{name:<16}{score['wer']:>8.1%}{score['speed']:>22.1f}")
    print(f"\nsearch hit@1 {understanding['hit_at_1']:.0%}   MRR {understanding['mrr']:.2f}")
    print(f"sentiment agreement {understanding['sentiment_agreement']:.0%}   "
          f"category agreement {understanding['category_agreement']:.0%}\n")
    print(f"{'clip':<10}{'rank':>5}  {'sentiment (expected)':<28}{'category (expected)'}")
    for name, rank, label, score, expected, category, expected_category in understanding["details"]:
        print(f"{name:<10}{rank or '-':>5}  {f'{label} {score:+.2f} ({expected})':<28}{category} ({expected_category})")
    print(f"\n{'translated clip':<16}{'spoken':>7}{'words':>7}{'rank':>6}  {'sentiment (expected)':<24}"
          f"{'translating / transcribing time':>32}")
    for name, found in translations.items():
        print(f"{name:<16}{found['spoken']:>7}{found['word_share']:>7.0%}{found['rank'] or '-':>6}  "
              f"{found['sentiment'] + ' (' + found['expected_sentiment'] + ')':<24}{found['time_ratio']:>32.2f}")
    for name, found in translations.items():
        print(f"  {name}: {found['translation']}")
    with tempfile.TemporaryDirectory() as tmp:
        cpu_paths(Path(tmp))


if __name__ == "__main__":
    main()
