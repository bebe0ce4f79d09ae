"""The voice-print network, built on OpenVINO from the weights in the resemblyzer package, computes what
Resemblyzer's own PyTorch code computes (tests/data/voice_print_reference.npz, from
scripts/voice_print_reference.py)."""

from pathlib import Path

import numpy as np
import pytest

from core.providers import voice_prints
from core.providers.torch_files import UnreadableModel, read_state

REFERENCE = Path(__file__).parent / "data" / "voice_print_reference.npz"


def reference_signal() -> np.ndarray:
    time = np.arange(int(1.7 * 16_000)) / 16_000
    phase = 2 * np.pi * np.cumsum(120 + 80 * time) / 16_000
    tone = sum(np.sin(k * phase) / k for k in range(1, 12))
    noise = np.random.default_rng(20261205).standard_normal(len(time))
    return (0.05 * tone + 0.005 * noise).astype(np.float32)


def test_mel_spectra_are_librosas():
    expected = np.load(REFERENCE)["mels"]
    mels = voice_prints.mel_frames(reference_signal())
    assert mels.shape == expected.shape
    np.testing.assert_allclose(mels, expected, rtol=1e-3, atol=1e-5 * float(expected.max()))


def test_voice_prints_are_the_reference_networks():
    reference = np.load(REFERENCE)
    mels = voice_prints.mel_frames(reference_signal())
    prints = voice_prints.voice_encoder()(np.stack([mels[:160], mels[10:170]]))
    assert prints.shape == (2, 256)
    np.testing.assert_allclose(np.linalg.norm(prints, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(prints, reference["prints"], atol=2e-4)
    assert (prints * reference["prints"]).sum(axis=1).min() > 0.99999


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    import pickle

    hostile = tmp_path / "hostile.pt"
    hostile.write_bytes(pickle.dumps(0x1950A86A20F9469CFC6C) + pickle.dumps(1001) + pickle.dumps({})
                        + b"cos\nsystem\n(S'true'\ntR.")
    with pytest.raises(UnreadableModel):
        read_state(hostile)
