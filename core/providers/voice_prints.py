"""Voice prints: who is speaking in 1.6 s of audio, as a 256-number vector, offline.

The network is Resemblyzer's GE2E speaker encoder (Apache-2.0; Wan et al., "Generalized End-to-End Loss for
Speaker Verification"), whose trained weights ship in the `resemblyzer` pip package as a PyTorch file. Its own
code needs PyTorch, so the package is installed without its dependencies and the same network is built here on
OpenVINO from those weights: 40-band mel power spectra (librosa's filters), three LSTM layers of 256, a linear
layer, ReLU and L2 normalisation. tests/test_voice_prints.py checks the outputs against Resemblyzer's own,
computed once with PyTorch (scripts/voice_print_reference.py)."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np

from core.processes import per_process
from core.providers import EngineError
from core.providers.bundled import verified
from core.providers.torch_files import UnreadableModel, read_state

SAMPLE_RATE = 16_000
FFT_SIZE = 400  # 25 ms
HOP = 160  # 10 ms: one frame per 10 ms
MEL_BANDS = 40
WINDOW_FRAMES = 160  # 1.6 s: the length the encoder was trained on
HIDDEN = 256
LAYERS = 3
TARGET_DBFS = -30.0  # the encoder's training audio was brought up to this loudness
GE2E_WEIGHTS = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"
PACKAGE = "resemblyzer"


def _hz_to_mel(hz):
    """The Slaney mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3)
    log_part = hz >= 1000.0
    return np.where(log_part, 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mel)


def _mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), mel * (200.0 / 3))


@per_process(maxsize=1)
def mel_filters() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40): Slaney-normalised triangles, [40, 201]."""
    frequencies = np.linspace(0, SAMPLE_RATE / 2, 1 + FFT_SIZE // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), MEL_BANDS + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - frequencies[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def mel_frames(samples: np.ndarray) -> np.ndarray:
    """librosa.feature.melspectrogram(y, sr=16000, n_fft=400, hop_length=160, n_mels=40).T: mel power spectra,
    one row per 10 ms, the first centred on sample 0 (zero padding at both ends)."""
    return _mels(np.pad(np.asarray(samples, dtype=np.float32), FFT_SIZE // 2))


def _mels(padded: np.ndarray) -> np.ndarray:
    """Mel power spectra of consecutive 25-ms frames every 10 ms, the first starting at padded[0]."""
    count = 1 + (len(padded) - FFT_SIZE) // HOP
    if count <= 0:
        return np.zeros((0, MEL_BANDS), np.float32)
    frames = np.lib.stride_tricks.as_strided(padded, (count, FFT_SIZE), (padded.strides[0] * HOP, padded.strides[0]))
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FFT_SIZE) / FFT_SIZE)).astype(np.float32)  # periodic Hann
    power = np.abs(np.fft.rfft(frames * window, axis=1)) ** 2
    return (power.astype(np.float32) @ mel_filters().T).astype(np.float32)


class WavFrames:
    """A 16-bit mono 16-kHz WAV's mel frames, computed a stretch at a time, as mel_frames would compute them from
    the whole file (with the file's loudness gain): a long talk never sits in memory whole."""

    def __init__(self, path: Path, read_seconds: float = 60.0):
        import wave

        self._wav = wave.open(str(path), "rb")
        if self._wav.getsampwidth() != 2 or self._wav.getnchannels() != 1 or self._wav.getframerate() != SAMPLE_RATE:
            self._wav.close()
            raise EngineError("Speaker detection expects 16-bit mono audio at 16 kHz.")
        self.samples_count = self._wav.getnframes()
        self.count = 1 + self.samples_count // HOP  # as many as mel_frames gives
        self._read = int(read_seconds * SAMPLE_RATE)
        self.gain = self._gain()

    def _gain(self) -> float:
        """The factor bringing quiet audio up to TARGET_DBFS (never down): the whole file's loudness."""
        total = 0.0
        self._wav.rewind()
        while chunk := self._wav.readframes(self._read):
            values = np.frombuffer(chunk, dtype=np.int16).astype(np.float64) / 32768.0
            total += float(np.sum(values * values))
        rms = np.sqrt(total / self.samples_count) if self.samples_count else 0.0
        if rms <= 0:
            return 1.0
        return max(1.0, float(10 ** ((TARGET_DBFS - 20 * np.log10(rms)) / 20)))

    def between(self, first: int, last: int) -> np.ndarray:
        """Frames first..last-1, [last - first, 40] (past the file's end, as if silence followed)."""
        begin, end = first * HOP - FFT_SIZE // 2, (last - 1) * HOP + FFT_SIZE // 2
        inside_begin, inside_end = max(0, begin), min(self.samples_count, end)
        self._wav.setpos(inside_begin)
        values = np.frombuffer(self._wav.readframes(max(0, inside_end - inside_begin)), dtype=np.int16)
        samples = values.astype(np.float32) * np.float32(self.gain / 32768.0)
        padded = np.pad(samples, (inside_begin - begin, end - inside_end))
        mels = _mels(padded)
        return mels if len(mels) == last - first else np.pad(mels, ((0, last - first - len(mels)), (0, 0)))

    def samples(self, first: int, last: int) -> np.ndarray:
        """Samples first..last-1 as -1..1 floats, as recorded (no gain), zeros past the end."""
        self._wav.setpos(min(first, self.samples_count))
        values = np.frombuffer(self._wav.readframes(max(0, min(last, self.samples_count) - first)), dtype=np.int16)
        return np.pad(values.astype(np.float32) / 32768.0, (0, last - first - len(values)))

    def close(self) -> None:
        self._wav.close()


def weights_file() -> Path:
    spec = importlib.util.find_spec(PACKAGE)  # finds the package without running its __init__ (which imports torch)
    if spec is None or not spec.submodule_search_locations:
        raise EngineError("Speaker detection needs the resemblyzer package's weights: "
                          "pip install --no-deps resemblyzer==0.1.4")
    return verified(Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt", GE2E_WEIGHTS, PACKAGE)


def build_encoder(state: dict[str, np.ndarray]):
    """The GE2E encoder as an OpenVINO model: mel frames [batch, frames, 40] -> voice prints [batch, 256]."""
    import openvino as ov
    import openvino.opset13 as ops

    def gates(name: str) -> np.ndarray:
        # PyTorch orders an LSTM's gates input, forget, cell, output; OpenVINO forget, input, cell, output
        value = state[name]
        i, f, g, o = np.split(value, 4, axis=0)
        return np.concatenate([f, i, g, o], axis=0)[None]

    mels = ops.parameter([-1, -1, MEL_BANDS], np.float32, name="mels")
    shape = ops.shape_of(mels, "i64")
    batch = ops.gather(shape, ops.constant(np.array([0], np.int64)), ops.constant(np.int64(0)))
    steps = ops.gather(shape, ops.constant(np.array([1], np.int64)), ops.constant(np.int64(0)))
    zeros = ops.broadcast(ops.constant(np.float32(0)),
                          ops.concat([batch, ops.constant(np.array([1, HIDDEN], np.int64))], 0))
    lengths = ops.broadcast(ops.convert(steps, "i32"), batch)
    x = mels
    hidden = None
    for layer in range(LAYERS):
        bias = gates(f"lstm.bias_ih_l{layer}") + gates(f"lstm.bias_hh_l{layer}")
        sequence = ops.lstm_sequence(x, zeros, zeros, lengths, ops.constant(gates(f"lstm.weight_ih_l{layer}")),
                                     ops.constant(gates(f"lstm.weight_hh_l{layer}")), ops.constant(bias),
                                     HIDDEN, "forward")
        x = ops.squeeze(sequence.output(0), ops.constant(np.array([1], np.int64)))  # [batch, frames, 256]
        hidden = sequence.output(1)
    last = ops.squeeze(hidden, ops.constant(np.array([1], np.int64)))  # the last layer's final state
    projected = ops.relu(ops.add(ops.matmul(last, ops.constant(state["linear.weight"]), False, True),
                                 ops.constant(state["linear.bias"])))
    prints = ops.normalize_l2(projected, ops.constant(np.array([1], np.int64)), 1e-12, "add")
    return ov.Model([prints], [mels], "ge2e_voice_encoder")


class VoiceEncoder:
    """Voice prints of 1.6-s windows, in batches, on OpenVINO. In OpenVINO's default precision for the CPU:
    bfloat16 where the CPU computes it natively (AMX; measured on a 2-core Xeon: 40 ms per 64 windows against 167 ms
    in float32, the prints' cosine to float32's >= 0.9993, which changes no grouping), else float32."""

    def __init__(self, threads: int = 1, precision: str = "auto"):
        import openvino as ov

        try:
            state = read_state(weights_file())["model_state"]
        except (UnreadableModel, KeyError) as exc:
            raise EngineError(f"The speaker model in the resemblyzer package cannot be read: {exc}") from exc
        config = {"INFERENCE_NUM_THREADS": threads, "ENABLE_CPU_PINNING": False}
        if precision != "auto":
            config["INFERENCE_PRECISION_HINT"] = precision
        self._compiled = ov.Core().compile_model(build_encoder(state), "CPU", config)
        self._request = self._compiled.create_infer_request()
        self._lock = threading.Lock()

    def __call__(self, mels: np.ndarray) -> np.ndarray:
        """[windows, frames, 40] mel power spectra -> [windows, 256] unit vectors."""
        if len(mels) == 0:
            return np.zeros((0, HIDDEN), np.float32)
        with self._lock:
            return self._request.infer({0: np.ascontiguousarray(mels, dtype=np.float32)})[0].copy()


@per_process(maxsize=2)
def voice_encoder(threads: int = 1, precision: str = "auto") -> VoiceEncoder:
    return VoiceEncoder(threads, precision)
