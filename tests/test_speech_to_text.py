"""The local speech-to-text engine's own pieces, on the bundled model."""

import numpy as np

from core.config import Settings
from core.providers.transcribe import ENCODER_BATCH, FasterWhisperTranscriber


def test_a_batch_of_windows_is_encoded_as_each_window_alone(tmp_path):
    model = FasterWhisperTranscriber(Settings(data_dir=tmp_path, whisper_model="tiny.en")).load()
    windows = np.random.default_rng(7).standard_normal((ENCODER_BATCH + 1, 80, 3000)).astype(np.float32)
    together = np.asarray(model.encode(windows))
    alone = np.concatenate([np.asarray(model.encode(window)) for window in windows])
    assert together.shape == alone.shape == (ENCODER_BATCH + 1, 1500, 384)
    np.testing.assert_allclose(together, alone, atol=1e-3)
