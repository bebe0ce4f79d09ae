"""Speech-to-text options on one generated talk: time, times real time, word error rate and peak memory of
faster-whisper base as the pipeline calls it at several WHISPER_BATCH_SIZE values and, at the default batch
size, with fewer hypotheses (WHISPER_BEAM_SIZE) than the default 5 and with CTranslate2 encoding the audio
(WHISPER_ENCODER=ctranslate2) rather than OpenVINO; beside the model called the plain way
(one stretch at a time, no word times) and faster-whisper's own batched pipeline given the whole file at
once (batch 8, word times: the library as it comes, against which the pipeline's pieces, its windows encoded
in pairs and its freed memory kept for reuse are measured). Each option runs in its own process, so its peak
memory is its own. This is how WHISPER_BATCH_SIZE's default was chosen, and what WHISPER_BEAM_SIZE trades.

    .venv/bin/python bench/speech_to_text.py [--minutes 10] [--batch-sizes 1,4,8] [--beam-sizes 3,1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pipeline import talk_text  # noqa: E402
from testkit.media import speak  # noqa: E402
from testkit.quality import normalise  # noqa: E402

# One option, in a process of its own: prints its text, wall seconds and peak memory.
OPTION = """
import json, resource, sys, time
from pathlib import Path
from core.sources import audio
from core.config import Settings
from core.providers.transcribe import FasterWhisperTranscriber, resolve_whisper_model
wav, data_dir, option = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
if option.startswith("beam"):  # the default batch size, fewer hypotheses
    settings = Settings(data_dir=data_dir, whisper_beam_size=int(option[4:]))
elif option.startswith("encoder-"):  # the defaults, another engine for the encoder
    settings = Settings(data_dir=data_dir, whisper_encoder=option[8:])
else:
    settings = Settings(data_dir=data_dir, whisper_batch_size=int(option) if option.isdigit() else 1)
started = time.perf_counter()
if option in ("plain", "whole"):
    from faster_whisper import BatchedInferencePipeline, WhisperModel
    model = WhisperModel(resolve_whisper_model("base", data_dir / "models"), device="cpu", compute_type="int8",
                         cpu_threads=settings.whisper_threads)
    if option == "plain":
        segments, _ = model.transcribe(str(wav), beam_size=5, vad_filter=True)
    else:
        segments, _ = BatchedInferencePipeline(model).transcribe(str(wav), beam_size=5, batch_size=8,
                                                                  word_timestamps=True)
    text = " ".join(segment.text for segment in segments)
else:
    text = FasterWhisperTranscriber(settings).transcribe(wav, audio.duration_of(wav), lambda *_: None).text
print(json.dumps({"text": text, "wall": time.perf_counter() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    import jiwer  # a test tool, installed with the dev requirements

    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--batch-sizes", default="1,4,8")
    parser.add_argument("--beam-sizes", default="3,1", help="WHISPER_BEAM_SIZE values tried besides 5")
    args = parser.parse_args()
    options = [*args.batch_sizes.split(","), "encoder-ctranslate2",
               *(f"beam{size}" for size in args.beam_sizes.split(",") if size), "plain", "whole"]
    text = talk_text(args.minutes)
    with tempfile.TemporaryDirectory() as tmp:
        spoken = speak(text, Path(tmp) / "talk-22k.wav")
        wav = Path(tmp) / "talk.wav"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(spoken), "-ac", "1", "-ar", "16000", str(wav)],
                       check=True)
        data_dir = Path(tmp) / "data"
        env = os.environ | {"PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-c", "from core.pipeline import prepare_models; prepare_models()"],
                       cwd=ROOT, env=env | {"DATA_DIR": str(data_dir)}, check=True)
        from core.sources.audio import duration_of

        seconds = duration_of(wav)
        print(f"{seconds:.0f} s of espeak-ng speech; faster-whisper base, int8, voice detection, beam 5 unless said\n")
        print(f"{'option':<46}{'time':>8}{'x real time':>13}{'WER':>8}{'peak MB':>9}")
        for option in options:
            found = json.loads(subprocess.run([sys.executable, "-c", OPTION, str(wav), str(data_dir), option],
                                              cwd=ROOT, env=env, capture_output=True, text=True,
                                              check=True).stdout)
            name = {"plain": "plain: one stretch at a time, no word times",
                    "whole": "the library's batched pipeline, whole file, 8",
                    "encoder-ctranslate2": "pipeline, WHISPER_ENCODER=ctranslate2"}.get(
                        option, f"pipeline, WHISPER_BEAM_SIZE={option[4:]}" if option.startswith("beam")
                        else f"pipeline, WHISPER_BATCH_SIZE={option}, word times")
            error = jiwer.wer(normalise(text), normalise(found["text"]))
            print(f"{name:<46}{found['wall']:>7.1f}s{seconds / found['wall']:>12.1f}x{error:>8.1%}"
                  f"{found['peak_mb']:>9.0f}")


if __name__ == "__main__":
    main()
