"""The local speech-to-text engine's own pieces, on the bundled model."""

import numpy as np
import pytest

from core import audio
from core.config import Settings
from core.providers.transcribe import ENCODER_BATCH, FasterWhisperTranscriber
from testkit.media import speak
from testkit.quality import normalise


def test_a_batch_of_windows_is_encoded_as_each_window_alone(tmp_path):
    model = FasterWhisperTranscriber(Settings(data_dir=tmp_path, whisper_model="tiny.en")).load()
    windows = np.random.default_rng(7).standard_normal((ENCODER_BATCH + 1, 80, 3000)).astype(np.float32)
    together = np.asarray(model.encode(windows))
    alone = np.concatenate([np.asarray(model.encode(window)) for window in windows])
    assert together.shape == alone.shape == (ENCODER_BATCH + 1, 1500, 384)
    np.testing.assert_allclose(together, alone, atol=1e-3)


@pytest.mark.parametrize("beam_size", [1, 5])
def test_the_speech_is_transcribed_with_as_many_hypotheses_as_set(tmp_path, beam_size):
    """WHISPER_BEAM_SIZE trades a little accuracy for speed; even greedy decoding (1) gets plain speech."""
    import jiwer  # a test tool, installed with the dev requirements

    said = "Rain barrels and drip irrigation can cut water use in half."
    wav = tmp_path / "speech.wav"
    audio.convert(speak(said, tmp_path / "spoken.wav"), [(wav, audio.SPEECH)])
    settings = Settings(data_dir=tmp_path, whisper_beam_size=beam_size)
    transcript = FasterWhisperTranscriber(settings).transcribe(wav, audio.duration_of(wav), lambda *_: None)
    assert jiwer.wer(normalise(said), normalise(transcript.text)) <= 0.2, transcript.text
