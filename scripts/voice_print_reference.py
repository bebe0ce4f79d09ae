"""Writes tests/data/voice_print_reference.npz: Resemblyzer's own mel spectra and voice prints of a fixed
signal, which tests/test_voice_prints.py compares with core.providers.voice_prints (built without PyTorch).

Run once, in a separate environment that has the reference implementation (not the project's):
    python -m venv /tmp/reference && /tmp/reference/bin/pip install torch==2.13.0 librosa==0.11.0 && \
    /tmp/reference/bin/pip install --no-deps resemblyzer==0.1.4 && \
    /tmp/reference/bin/python scripts/voice_print_reference.py
"""

from pathlib import Path

import numpy as np
import torch
from resemblyzer import VoiceEncoder, audio


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
    target = Path(__file__).resolve().parents[1] / "tests" / "data" / "voice_print_reference.npz"
    np.savez_compressed(target, signal_seconds=np.float32(1.7), mels=mels.astype(np.float32),
                        prints=prints.astype(np.float32))
    print(f"wrote {target}: mels {mels.shape}, prints {prints.shape}")


if __name__ == "__main__":
    main()
