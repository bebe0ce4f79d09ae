"""CTranslate2's model.bin: reading a model's variables, and writing a copy of a model whose weights are stored
as CTranslate2 holds them for int8 computation, so that each job's process loads them as they are.

The bundled Whisper model stores float16 weights; every load with `compute_type="int8"` widens all of them to
float32 and quantizes the linear ones, ~0.6 s of CPU in each job's process on a 2-core VM (0.15 s from the
int8 copy). The copy quantizes exactly as CTranslate2 does on load (per output row, scale = 127 / max |w|,
rounded to nearest even), so the model computes bit for bit the same."""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

# The layout CTranslate2's converters write (ctranslate2/specs/model_spec.py, binary version 6)
CT2_BINARY_VERSION = 6
CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}
FLOAT32, INT8, FLOAT16, BFLOAT16 = 0, 1, 4, 5
FLOATS = (FLOAT32, FLOAT16, BFLOAT16)
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "preprocessor_config.json")
SOURCE_RECORD = "int8-source.json"  # which model.bin (size, time) a copy was made from


class UnsupportedModel(Exception):
    """A model file this code cannot read: the model is used as it is."""


def _unpack(file: BinaryIO, fmt: str):
    return struct.unpack(fmt, file.read(struct.calcsize(fmt)))[0]


def _string(file: BinaryIO) -> str:
    return file.read(_unpack(file, "H"))[:-1].decode()  # the length counts a terminating NUL


def _pack_string(text: str) -> bytes:
    return struct.pack("H", len(text.encode()) + 1) + text.encode() + b"\0"


def _header(file: BinaryIO) -> tuple[str, int, int]:
    """(spec name, spec revision, number of variables), after checking the binary version."""
    if (version := _unpack(file, "I")) != CT2_BINARY_VERSION:
        raise UnsupportedModel(f"CTranslate2 model format {version}, expected {CT2_BINARY_VERSION}")
    return _string(file), _unpack(file, "I"), _unpack(file, "I")


def _variables(file: BinaryIO, count: int, wanted=lambda name: True):
    """(name, shape, dtype id, raw bytes or None where not wanted) of each variable, in the file's order."""
    for _ in range(count):
        name = _string(file)
        shape = [_unpack(file, "I") for _ in range(_unpack(file, "B"))]
        type_id, size = _unpack(file, "B"), _unpack(file, "I")
        if type_id not in CT2_DTYPES:
            raise UnsupportedModel(f"unknown data type of {name}")
        if wanted(name):
            yield name, shape, type_id, file.read(size)
        else:
            file.seek(size, 1)
            yield name, shape, type_id, None


def _as_array(type_id: int, data: bytes, shape: list[int]) -> np.ndarray:
    if type_id == BFLOAT16:  # the upper half of a float32
        return (np.frombuffer(data, np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(shape)
    return np.frombuffer(data, CT2_DTYPES[type_id]).reshape(shape)


def read_variables(model_bin: Path, prefix: str) -> dict[str, np.ndarray]:
    """The variables of a CTranslate2 model.bin whose names start with `prefix`: floating-point ones as stored
    (float16 weights stay float16), int8 weights dequantized with their scales, bfloat16 widened to float32.
    Only those variables are read from the file."""
    raw: dict[str, np.ndarray] = {}
    with model_bin.open("rb") as file:
        _, _, count = _header(file)
        for name, shape, type_id, data in _variables(file, count, lambda name: name.startswith(prefix)):
            if data is not None:
                raw[name] = _as_array(type_id, data, shape)
    variables = {}
    for name, value in raw.items():
        if name.endswith("_scale"):
            continue
        if value.dtype == np.int8 and f"{name}_scale" in raw:  # quantized per output row: w = q / scale
            scale = raw[f"{name}_scale"].astype(np.float32)
            value = value.astype(np.float32) / scale.reshape(-1, *[1] * (value.ndim - 1))
        variables[name] = value
    return variables


def whisper_quantizable(name: str) -> bool:
    """The variables CTranslate2 stores as int8 for a Whisper model (WhisperModel::is_quantizable)."""
    return name.endswith("weight") and "conv" not in name


def quantize_rows(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 weights, float32 scale per row) as CTranslate2 quantizes on load (ops::Quantize, per row)."""
    weights = weights.astype(np.float32, copy=False)
    largest = np.abs(weights).max(axis=1)
    scale = np.where(largest != 0, np.float32(127) / np.where(largest != 0, largest, 1), np.float32(1))
    scale = scale.astype(np.float32)
    return np.rint(weights * scale[:, None]).astype(np.int8), scale


def _int8_variables(file: BinaryIO, count: int):
    """The variables of a model as stored for int8 computation: quantizable float weights as int8 with their
    scales, other floating-point values as float32, the rest as they are."""
    for name, shape, type_id, data in _variables(file, count):
        if type_id not in FLOATS:
            yield name, shape, type_id, data
            continue
        value = _as_array(type_id, data, shape)
        if whisper_quantizable(name) and value.ndim == 2:
            quantized, scale = quantize_rows(value)
            yield name, shape, INT8, quantized.tobytes()
            yield f"{name}_scale", [len(scale)], FLOAT32, scale.tobytes()
        else:
            yield name, shape, FLOAT32, value.astype(np.float32, copy=False).tobytes()


def _source_record(model_bin: Path) -> dict:
    stat = model_bin.stat()
    return {"source": str(model_bin.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _read_record(record_file: Path) -> dict | None:
    try:
        return json.loads(record_file.read_text())
    except (OSError, ValueError):
        return None


def int8_copy(source_dir: Path, target_dir: Path) -> Path:
    """`target_dir` holding the model of `source_dir` stored for int8 computation, written once (again when the
    source changes) and atomically, so processes that start together never read half a file. A model this
    cannot read, or that is int8 already, is returned as it is."""
    source_bin = Path(source_dir) / "model.bin"
    record_file = Path(target_dir) / SOURCE_RECORD
    wanted = _source_record(source_bin)
    if _read_record(record_file) == wanted and (Path(target_dir) / "model.bin").is_file():
        return Path(target_dir)
    with source_bin.open("rb") as source:
        spec, revision, count = _header(source)
        entries = [(name, shape, type_id) for name, shape, type_id, _ in _variables(source, count, lambda _: False)]
    scales_added = sum(1 for name, shape, type_id in entries
                       if type_id in FLOATS and whisper_quantizable(name) and len(shape) == 2)
    if spec != "WhisperSpec" or not scales_added:
        return Path(source_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    record_file.unlink(missing_ok=True)
    for name in MODEL_FILES:  # each file whole or not at all: another process may be loading the model
        if (Path(source_dir) / name).is_file():
            partial = target_dir / f"{name}.{os.getpid()}.part"
            shutil.copyfile(Path(source_dir) / name, partial)
            partial.replace(target_dir / name)
    partial = target_dir / f"model.bin.{os.getpid()}.part"
    try:
        with source_bin.open("rb") as source, partial.open("wb") as out:
            _header(source)
            out.write(struct.pack("I", CT2_BINARY_VERSION) + _pack_string(spec) + struct.pack("I", revision))
            out.write(struct.pack("I", count + scales_added))  # each quantized weight gains its scale
            for name, shape, type_id, data in _int8_variables(source, count):
                out.write(_pack_string(name) + struct.pack("B", len(shape)) + b"".join(struct.pack("I", d)
                                                                                      for d in shape))
                out.write(struct.pack("B", type_id) + struct.pack("I", len(data)) + data)
            shutil.copyfileobj(source, out)  # the aliases, as they are
        partial.replace(target_dir / "model.bin")
    finally:
        partial.unlink(missing_ok=True)
    partial = record_file.with_name(f"{SOURCE_RECORD}.{os.getpid()}.part")
    partial.write_text(json.dumps(wanted))
    partial.replace(record_file)  # written last: the copy is complete
    return Path(target_dir)
