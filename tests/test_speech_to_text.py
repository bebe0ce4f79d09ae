"""The local speech-to-text engine's own pieces, on the bundled model."""

import wave

import numpy as np
import pytest

from core import audio
from core.config import Settings
from core.providers.transcribe import CUT_SEARCH_SECONDS, ENCODER_BATCH, FasterWhisperTranscriber, read_chunks
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


@pytest.mark.parametrize(("seconds", "expected"), [(100, 4), (70, 3), (61, 3), (20, 1)])
def test_audio_is_read_in_even_pieces_cut_in_pauses(tmp_path, seconds, expected):
    """Pieces within TRANSCRIBE_CHUNK_SECONDS (here 30), no more than needed, about equally long (no short
    tail to decode on its own), each cut in a pause."""
    rate = 16_000
    rng = np.random.default_rng(3)
    # 1.7 s of "speech" (noise), then 0.3 s of silence, over and over.
    pattern = np.concatenate([rng.integers(-8000, 8000, int(1.7 * rate)), np.zeros(int(0.3 * rate))])
    samples = np.resize(pattern, seconds * rate).astype(np.int16)
    wav_path = tmp_path / "speech.wav"
    with wave.open(str(wav_path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    pieces = list(read_chunks(wav_path, 30))
    assert len(pieces) == expected
    assert np.array_equal(np.concatenate([audio for _, audio in pieces]), samples / 32768.0)
    assert [offset for offset, _ in pieces] == [0, *np.cumsum([len(a) / rate for _, a in pieces])[:-1].tolist()]
    lengths = [len(audio) / rate for _, audio in pieces]
    assert max(lengths) <= 30 and max(lengths) - min(lengths) <= CUT_SEARCH_SECONDS
    for offset, _ in pieces[1:]:  # each cut falls in a pause
        assert offset % 2 > 1.7
