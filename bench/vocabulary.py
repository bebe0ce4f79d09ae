"""Rare names with and without a vocabulary: generated speech (espeak-ng) naming people, places and products Whisper
rarely writes right, transcribed by the offline engine without a prompt and with the names as its vocabulary.

    .venv/bin/python bench/vocabulary.py

Prints, for each clip, whether each name came out right both ways, and the share of names right in each.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIPS = [
    ("Siobhan Nguyen presented the quarterly report to the board.", ["Siobhan", "Nguyen"]),
    ("We met Xochitl at the market in Oaxaca last summer.", ["Xochitl", "Oaxaca"]),
    ("The new Kubernetes operator is called Tekton Chains.", ["Kubernetes", "Tekton"]),
    ("Dr Aoife Ni Bhriain leads the research group in Galway.", ["Aoife", "Galway"]),
    ("Grzegorz Brzeczyszczykiewicz signed the contract on Monday.", ["Grzegorz"]),
    ("Our hiking trip went from Reykjavik to Thingvellir.", ["Reykjavik", "Thingvellir"]),
    ("The pastry chef makes kouign amann and canele every morning.", ["kouign", "canele"]),
    ("Ada Lovelace corresponded with Charles Babbage about the Analytical Engine.", ["Lovelace", "Babbage"]),
]


def main() -> None:
    from core.config import Settings
    from core.providers.prompts import prompt_for, words_of
    from core.providers.transcribe import FasterWhisperTranscriber
    from core.sources import audio
    from testkit.media import speak

    vocabulary = words_of([name for _, names in CLIPS for name in names])
    prompt = prompt_for(vocabulary)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        transcriber = FasterWhisperTranscriber(settings)
        transcriber.load()
        right = {"without": 0, "with": 0}
        total = 0
        seconds = {"without": 0.0, "with": 0.0}
        for number, (text, names) in enumerate(CLIPS):
            wav = speak(text, Path(tmp) / f"{number}.wav")
            duration = audio.duration_of(wav)
            heard = {}
            for way, given in (("without", None), ("with", prompt)):
                began = time.perf_counter()
                heard[way] = transcriber.transcribe(wav, duration, lambda *_: None, prompt=given).text
                seconds[way] += time.perf_counter() - began
            total += len(names)
            marks = []
            for name in names:
                for way in ("without", "with"):
                    found = name.lower() in heard[way].lower()
                    right[way] += found
                marks.append(f"{name}: {'✓' if name.lower() in heard['without'].lower() else '✗'} → "
                             f"{'✓' if name.lower() in heard['with'].lower() else '✗'}")
            print(f"{', '.join(marks)}\n    without: {heard['without']}\n    with:    {heard['with']}")
    print(f"\nnames right without a vocabulary {right['without']}/{total}, with it {right['with']}/{total} "
          f"({len(vocabulary)} words, a prompt of {len(prompt)} characters); transcribing took "
          f"{seconds['with'] / seconds['without']:.2f}x as long with it")


if __name__ == "__main__":
    main()
