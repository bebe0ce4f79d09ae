"""How well the offline engines understand speech: WER per speech-to-text candidate, search hit@1 and MRR,
sentiment and category agreement, on spoken clips generated with espeak-ng.

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
from testkit.quality import CLIPS, make_clips, speech_to_text_scores, understanding_scores  # noqa: E402


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(DATA_DIR=str(Path(tmp) / "data"), ALLOW_PRIVATE_URLS="true")
        videos = make_clips(Path(tmp) / "site")
        server, url = serve(Path(tmp) / "site")
        try:
            stt = speech_to_text_scores(videos, Path(tmp) / "data")
            understanding = understanding_scores(url)
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


if __name__ == "__main__":
    main()
