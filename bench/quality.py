"""How well the offline engines understand speech: WER per speech-to-text candidate, search hit@1 and MRR,
sentiment and category agreement, on spoken clips generated with espeak-ng; and for Spanish and German
clips, how good their translation is (share of the expected English content words), whether the sentiment
and an English paraphrase query still find them, and what the translating step costs in time as a share
of the transcribing step's.

    .venv/bin/python bench/quality.py

The clips and the scoring are in testkit/quality.py; tests/test_quality.py holds the same scores to
floors.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testkit.media import serve  # noqa: E402
from testkit.quality import (  # noqa: E402
    CLIPS,
    make_clips,
    make_foreign_clips,
    speech_to_text_scores,
    translation_scores,
    understanding_scores,
)


def main() -> None:
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


if __name__ == "__main__":
    main()
