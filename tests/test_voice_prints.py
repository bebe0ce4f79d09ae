"""The voice-print network, built on OpenVINO from the weights in the resemblyzer package, computes what
Resemblyzer's own PyTorch code computes (tests/data/voice_print_reference.npz, from
scripts/voice_print_reference.py)."""

from pathlib import Path

import numpy as np
import pytest

from core.providers import campplus, voice_prints
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
    prints = voice_prints.voice_encoder(1, "f32")(np.stack([mels[:160], mels[10:170]]))
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


def test_a_long_file_read_a_stretch_at_a_time_gives_the_whole_files_frames(tmp_path):
    """Frames read from a WAV a stretch at a time (as for a long talk) are those of the whole file, loudness
    gain included (past its end, as if silence followed)."""
    import wave

    signal = np.concatenate([reference_signal(), reference_signal()[::-1]]) * 0.05  # quiet: it gets louder
    path = tmp_path / "quiet.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(16_000)
        wav.writeframes((signal * 32767).astype(np.int16).tobytes())
    stored = np.frombuffer(path.read_bytes()[44:], dtype=np.int16).astype(np.float64) / 32768.0
    gain = 10 ** ((voice_prints.TARGET_DBFS - 20 * np.log10(np.sqrt(np.mean(stored ** 2)))) / 20)
    whole = voice_prints.mel_frames((stored * gain).astype(np.float32))
    audio = voice_prints.WavFrames(path, read_seconds=0.5)
    try:
        assert audio.count == len(whole) and audio.gain == pytest.approx(gain, rel=1e-6)
        for first, last in ((0, 160), (37, 250), (len(whole) - 100, len(whole)), (len(whole) - 50, len(whole) + 30)):
            part = audio.between(first, last)
            expected = whole[first:last]
            assert part.shape == (last - first, 40)
            np.testing.assert_allclose(part[:len(expected)], expected, rtol=1e-3, atol=1e-6 * float(whole.max()))
    finally:
        audio.close()


def test_the_cpus_own_precision_gives_nearly_the_same_prints():
    mels = voice_prints.mel_frames(reference_signal())
    windows = np.stack([mels[:160], mels[10:170]])
    exact = voice_prints.voice_encoder(1, "f32")(windows)
    fast = voice_prints.voice_encoder(2)(windows)  # bfloat16 where the CPU has it
    assert (exact * fast).sum(axis=1).min() > 0.999


def test_campplus_features_and_prints_are_senkos():
    reference = np.load(Path(__file__).parent / "data" / "campplus_reference.npz")
    signal = reference_signal()
    features = np.stack([campplus.window_features(signal[int(start * 16_000):int(end * 16_000)])
                         for start, end in reference["windows"]])
    assert features.shape == (2, 148, 80)
    np.testing.assert_allclose(features[:, :12], reference["features"], atol=0.02)
    encoder = campplus.campplus_encoder(1, "f32")
    prints = encoder(features, raw=True)
    np.testing.assert_allclose(prints, reference["prints"], atol=0.01)
    unit = encoder(features)
    expected = reference["prints"] / np.linalg.norm(reference["prints"], axis=1, keepdims=True)
    assert (unit * expected).sum(axis=1).min() > 0.99999
