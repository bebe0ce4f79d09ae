"""Whisper's audio encoder run by OpenVINO, from the weights of the CTranslate2 model that decodes.

CTranslate2 computes the encoder's attention in float32 and writes out every head's 1500 x 1500 score matrix:
on CPU that is most of the encoder's time, and the encoder is about 40 % of speech-to-text. OpenVINO fuses
the attention and, on CPUs with AMX or AVX-512 BF16, runs the whole encoder in bfloat16 (else in float32).
The decoder stays CTranslate2's: it takes encoded windows as they are (`Whisper.generate` accepts
encoder output in place of features). Measured on a 2-core Xeon VM with AMX: the encoder ~2.4-3x faster,
its output closer to the float32 model's than CTranslate2's int8 encoder's (cosine 0.9999 vs 0.9988)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from core.providers.ct2_files import read_variables

LAYER_NORM_EPSILON = 1e-5  # Whisper's


def build_encoder(weights: dict[str, np.ndarray]):
    """Whisper's encoder as an OpenVINO model: two convolutions with GELU, sinusoidal positions, pre-norm
    transformer layers, a final layer norm. Input: log-mel features [batch, mels, 3000]; output [batch, 1500,
    width], what CTranslate2's own encoder returns."""
    import openvino as ov
    import openvino.opset13 as ops

    def constant(value: np.ndarray):
        # float16 weights stay float16 in the model, widened as they are compiled for the CPU's precision
        return ops.convert(ops.constant(value), np.float32) if value.dtype != np.float32 else ops.constant(value)

    def weight(name: str):
        return constant(weights[f"encoder/{name}"])

    def layer_norm(x, name: str):
        normalised = ops.mvn(x, ops.constant(np.array([-1], np.int64)), True, LAYER_NORM_EPSILON, "inside_sqrt")
        return ops.add(ops.multiply(normalised, weight(f"{name}/gamma")), weight(f"{name}/beta"))

    def linear(x, name: str, rows: slice = slice(None)):
        product = ops.matmul(x, constant(weights[f"encoder/{name}/weight"][rows]), False, True)
        bias = weights.get(f"encoder/{name}/bias")
        return product if bias is None else ops.add(product, constant(bias[rows]))

    def convolution(x, name: str, stride: int):
        x = ops.convolution(x, weight(f"{name}/weight"), [stride], [1], [1], [1])
        return ops.gelu(ops.add(x, constant(weights[f"encoder/{name}/bias"].reshape(1, -1, 1))), "erf")

    mels = weights["encoder/conv1/weight"].shape[1]
    width = weights["encoder/conv1/weight"].shape[0]
    heads = int(weights["encoder/num_heads"])
    features = ops.parameter([-1, mels, 3000], np.float32, name="features")
    x = convolution(convolution(features, "conv1", 1), "conv2", 2)
    x = ops.add(ops.transpose(x, [0, 2, 1]), weight("position_encodings/encodings"))
    split_heads = ops.constant(np.array([0, 0, heads, width // heads], np.int64))
    join_heads = ops.constant(np.array([0, 0, width], np.int64))
    layers = sorted({int(n.split("/")[1][6:]) for n in weights if n.split("/")[1][6:].isdigit()})
    for layer in layers:
        prefix = f"layer_{layer}/self_attention"
        normalised = layer_norm(x, f"{prefix}/layer_norm")
        query, key, value = (
            ops.transpose(ops.reshape(linear(normalised, f"{prefix}/linear_0", slice(i * width, (i + 1) * width)),
                                      split_heads, True), [0, 2, 1, 3])
            for i in range(3))  # the fused query/key/value projection, one third each
        attended = ops.transpose(ops.scaled_dot_product_attention(query, key, value), [0, 2, 1, 3])
        x = ops.add(x, linear(ops.reshape(attended, join_heads, True), f"{prefix}/linear_1"))
        prefix = f"layer_{layer}/ffn"
        hidden = ops.gelu(linear(layer_norm(x, f"{prefix}/layer_norm"), f"{prefix}/linear_0"), "erf")
        x = ops.add(x, linear(hidden, f"{prefix}/linear_1"))
    return ov.Model([layer_norm(x, "layer_norm")], [features], "whisper_encoder")


class OpenVinoEncoder:
    """Encodes batches of 30-s log-mel windows: float32 [batch, 1500, width]."""

    def __init__(self, model_dir: Path, threads: int, precision: str = "auto"):
        import openvino as ov

        model = build_encoder(read_variables(Path(model_dir) / "model.bin", "encoder/"))
        # One request at a time on the job's threads, not pinned to cores (workers on one machine would all
        # pin theirs to the first ones). The precision, unless asked: OpenVINO's default for the CPU, bfloat16
        # where the CPU computes it natively (AMX), else float32.
        config = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY", "ENABLE_CPU_PINNING": False}
        if precision != "auto":
            config["INFERENCE_PRECISION_HINT"] = precision
        self._compiled = ov.Core().compile_model(model, "CPU", config)
        self._request = self._compiled.create_infer_request()
        self._lock = threading.Lock()  # one call at a time per request; the job's thread and its helper both encode

    def __call__(self, features: np.ndarray) -> np.ndarray:
        with self._lock:
            result = self._request.infer({0: np.ascontiguousarray(features, dtype=np.float32)})
            return result[0].copy()  # the request reuses its output buffer
