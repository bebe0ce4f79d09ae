"""The local speech-to-text engine's own pieces, on the bundled model."""

import struct
import wave
from pathlib import Path

import ctranslate2
import numpy as np
import pytest

from core.config import Settings
from core.providers.bundled import whisper_tiny_en
from core.providers.ct2_files import UnsupportedModel, int8_copy, quantize_rows, read_variables
from core.providers.transcribe import (
    CUT_SEARCH_SECONDS,
    ENCODER_BATCH,
    FasterWhisperTranscriber,
    decoding_lanes,
    read_chunks,
)
from core.sources import audio
from testkit.media import speak
from testkit.quality import normalise


@pytest.mark.parametrize("encoder", ["openvino", "ctranslate2"])
def test_a_batch_of_windows_is_encoded_as_each_window_alone(tmp_path, encoder):
    settings = Settings(data_dir=tmp_path, whisper_model="tiny.en", whisper_encoder=encoder)
    model = FasterWhisperTranscriber(settings).load()
    assert (model.openvino is not None) == (encoder == "openvino")
    windows = np.random.default_rng(7).standard_normal((ENCODER_BATCH + 1, 80, 3000)).astype(np.float32)
    together = np.asarray(model.encode(windows))
    alone = np.concatenate([np.asarray(model.encode(window)) for window in windows])
    assert together.shape == alone.shape == (ENCODER_BATCH + 1, 1500, 384)
    np.testing.assert_allclose(together, alone, atol=2e-2 if encoder == "openvino" else 1e-3)


def test_openvino_encodes_speech_as_the_models_own_weights_do(tmp_path):
    """The OpenVINO encoder is the same network: on spoken audio its output agrees with CTranslate2's float32
    encoder at least as closely as CTranslate2's int8 one (what ran before) does."""
    import ctranslate2
    from faster_whisper.feature_extractor import FeatureExtractor

    wav = tmp_path / "speech.wav"
    audio.convert(speak("Sensors tell the gardener exactly when the plants are thirsty.", tmp_path / "s.wav"),
                  [(wav, audio.SPEECH)])
    with wave.open(str(wav)) as opened:
        samples = np.frombuffer(opened.readframes(opened.getnframes()), np.int16).astype(np.float32) / 32768.0
    features = FeatureExtractor(feature_size=80)(np.pad(samples, (0, 480_000 - len(samples))))[np.newaxis, :, :3000]
    settings = Settings(data_dir=tmp_path, whisper_model="tiny.en")
    fast = np.asarray(FasterWhisperTranscriber(settings).load().encode(features))
    exact, quantized = (np.asarray(ctranslate2.models.Whisper(str(whisper_tiny_en()), compute_type=kind).encode(
        ctranslate2.StorageView.from_array(np.ascontiguousarray(features)))) for kind in ("float32", "int8"))

    def cosine(a, b):
        return float((a * b).sum() / np.linalg.norm(a) / np.linalg.norm(b))

    assert cosine(fast, exact) > 0.9995
    assert cosine(fast, exact) >= cosine(quantized, exact)


def test_voice_is_detected_on_openvino_as_on_onnx_runtime(tmp_path):
    """The speech probabilities of every 32-ms frame of spoken audio with pauses are ONNX Runtime's."""
    from faster_whisper import vad

    from core.providers.voice_detection import use_openvino_voice_detection

    wav = tmp_path / "speech.wav"
    spoken = speak("Rain barrels cut water use in half. Neighbours share tools and harvests.", tmp_path / "s.wav")
    audio.convert(spoken, [(wav, audio.SPEECH)])
    with wave.open(str(wav)) as opened:
        samples = np.frombuffer(opened.readframes(opened.getnframes()), np.int16).astype(np.float32) / 32768.0
    samples = np.concatenate([samples, np.zeros(16000, np.float32), samples])  # a second of silence between
    samples = np.pad(samples, (0, 512 - len(samples) % 512))
    onnx_runtime = vad.SileroVADModel(str(Path(vad.get_assets_path()) / "silero_vad_v6.onnx"))(samples)
    assert use_openvino_voice_detection()
    openvino = vad.get_vad_model()(samples)
    assert openvino.shape == onnx_runtime.shape
    assert np.abs(openvino - onnx_runtime).max() < 1e-4
    speech = onnx_runtime > 0.5
    assert ((openvino > 0.5) == speech).all() and speech.any() and not speech.all()


def _model_bin(path, variables, version=6):
    """A model.bin in CTranslate2's layout: (name, dtype id, array) for each variable."""
    def string(text):
        return struct.pack("H", len(text) + 1) + text.encode() + b"\0"

    body = struct.pack("I", version) + string("WhisperSpec") + struct.pack("I", 3) + struct.pack("I", len(variables))
    for name, type_id, array in variables:
        body += string(name) + struct.pack("B", array.ndim) + b"".join(struct.pack("I", d) for d in array.shape)
        body += struct.pack("B", type_id) + struct.pack("I", array.nbytes) + array.tobytes()
    path.write_bytes(body + struct.pack("I", 0))
    return path


def test_model_weights_are_read_as_stored_or_dequantized(tmp_path):
    weights = np.array([[0.5, -1.0], [2.0, 0.25]], np.float32)
    scale = np.array([127.0, 63.5], np.float32)  # int8 weights: q = round(w * scale) per row
    model_bin = _model_bin(tmp_path / "model.bin", [
        ("encoder/a/weight", 4, weights.astype(np.float16)),
        ("encoder/b/weight", 1, np.round(weights * scale[:, None]).astype(np.int8)),
        ("encoder/b/weight_scale", 0, scale),
        ("encoder/c", 5, (weights.view(np.uint32) >> 16).astype(np.uint16)),  # bfloat16
        ("encoder/num_heads", 2, np.array(8, np.int16)),
        ("decoder/d/weight", 0, weights),
    ])
    read = read_variables(model_bin, "encoder/")
    assert sorted(read) == ["encoder/a/weight", "encoder/b/weight", "encoder/c", "encoder/num_heads"]
    assert read["encoder/a/weight"].dtype == np.float16
    np.testing.assert_allclose(read["encoder/a/weight"], weights)
    np.testing.assert_allclose(read["encoder/b/weight"], weights, rtol=1e-2)
    np.testing.assert_allclose(read["encoder/c"], weights)
    assert int(read["encoder/num_heads"]) == 8
    with pytest.raises(UnsupportedModel):
        read_variables(_model_bin(tmp_path / "old.bin", [], version=5), "encoder/")


def test_the_int8_copy_of_the_model_computes_exactly_as_the_stored_model(tmp_path):
    """Each job loads the copy stored for int8 computation; CTranslate2 quantizing the float16 original on
    load gives bit for bit the same encoder output, hypotheses, scores and word alignments."""
    original = whisper_tiny_en()
    transcriber = FasterWhisperTranscriber(Settings(data_dir=tmp_path, whisper_model="tiny.en"))
    copy = Path(transcriber._decoding_path)
    assert copy.parent == tmp_path / "models" and copy.name.endswith("-int8")
    assert (copy / "model.bin").stat().st_size < (original / "model.bin").stat().st_size * 0.6
    features = np.random.default_rng(3).standard_normal((2, 80, 3000)).astype(np.float32)
    prompt = [50257, 50362]  # <|startoftranscript|><|notimestamps|> of the English-only model
    results = []
    for folder in (original, copy):
        model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8", intra_threads=1)
        encoded = model.encode(ctranslate2.StorageView.from_array(features))
        generated = model.generate(encoded, [prompt] * 2, beam_size=2, max_length=20, return_scores=True)
        tokens = [g.sequences_ids[0] or [0] for g in generated]
        aligned = model.align(encoded, prompt, tokens, 3000)
        results.append((np.asarray(encoded).tobytes(), [(g.sequences_ids, g.scores) for g in generated],
                        [(a.alignments, a.text_token_probs) for a in aligned]))
    assert results[0] == results[1]


def test_the_int8_copy_is_made_once_and_again_when_the_model_changes(tmp_path):
    weights = np.array([[0.5, -1.0, 0.0], [2.0, 0.25, -0.125], [0.0, 0.0, 0.0]], np.float32)
    source = tmp_path / "model"
    source.mkdir()
    (source / "config.json").write_text("{}")
    _model_bin(source / "model.bin", [
        ("decoder/layer_0/linear/weight", 4, weights.astype(np.float16)),
        ("decoder/layer_0/linear/bias", 4, weights[0].astype(np.float16)),
        ("encoder/conv1/weight", 4, weights.astype(np.float16)),  # convolutions stay floating-point
        ("decoder/num_heads", 2, np.array(8, np.int16)),
    ])
    copy = int8_copy(source, tmp_path / "copy")
    assert copy == tmp_path / "copy" and (copy / "config.json").read_text() == "{}"
    read = read_variables(copy / "model.bin", "")
    np.testing.assert_allclose(read["decoder/layer_0/linear/weight"], weights, atol=2.0 / 127)
    assert read["decoder/layer_0/linear/bias"].dtype == read["encoder/conv1/weight"].dtype == np.float32
    assert int(read["decoder/num_heads"]) == 8
    quantized, scale = quantize_rows(weights)
    assert quantized.tolist() == [[64, -127, 0], [127, 16, -8], [0, 0, 0]] and scale[2] == 1

    written = (copy / "model.bin").stat().st_mtime_ns
    assert int8_copy(source, copy) == copy and (copy / "model.bin").stat().st_mtime_ns == written
    _model_bin(source / "model.bin", [("decoder/layer_0/linear/weight", 0, weights * 2)])  # a new model
    read = read_variables(int8_copy(source, copy) / "model.bin", "")
    np.testing.assert_allclose(read["decoder/layer_0/linear/weight"], weights * 2, atol=4.0 / 127)
    # Nothing to quantize (already int8), or not a Whisper model: the model is used as it is.
    _model_bin(source / "model.bin", [("decoder/w/weight", 1, quantized), ("decoder/w/weight_scale", 0, scale)])
    assert int8_copy(source, tmp_path / "other") == source


@pytest.mark.parametrize("beam_size", [1, 5])
def test_the_speech_is_transcribed_with_as_many_hypotheses_as_set(tmp_path, beam_size):
    """WHISPER_BEAM_SIZE trades a little accuracy for speed; even greedy decoding (1) gets plain speech."""
    said = "Rain barrels and drip irrigation can cut water use in half."
    wav = tmp_path / "speech.wav"
    audio.convert(speak(said, tmp_path / "spoken.wav"), [(wav, audio.SPEECH)])
    settings = Settings(data_dir=tmp_path, whisper_beam_size=beam_size)
    transcript = FasterWhisperTranscriber(settings).transcribe(wav, audio.duration_of(wav), lambda *_: None)
    assert jiwer_wer(said, transcript.text) <= 0.2, transcript.text


def test_numpy_keeps_to_one_thread_while_speech_is_transcribed(tmp_path):
    """numpy's second BLAS thread would spin beside the decoder; the setting is given back afterwards."""
    from threadpoolctl import threadpool_info

    def blas_threads() -> set[int]:
        return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}

    wav = tmp_path / "speech.wav"
    audio.convert(speak("Sensors tell the gardener when the plants are thirsty.", tmp_path / "s.wav"),
                  [(wav, audio.SPEECH)])
    before, during = blas_threads(), []
    settings = Settings(data_dir=tmp_path, whisper_model="tiny.en")
    FasterWhisperTranscriber(settings).transcribe(wav, audio.duration_of(wav), lambda *_: during.append(blas_threads()))
    assert during and all(threads == {1} for threads in during)
    assert blas_threads() == before


@pytest.mark.parametrize(("seconds", "longest", "at_least", "expected"), [
    (100, 30, 1, 4), (70, 30, 1, 3), (61, 30, 1, 3), (20, 30, 1, 1),
    # one piece per decoding lane, as long as each is still SHORTEST_PIECE_SECONDS (20) long
    (45, 60, 2, 2), (39, 60, 2, 1), (50, 60, 3, 2), (100, 30, 2, 4)])
def test_audio_is_read_in_even_pieces_cut_in_pauses(tmp_path, seconds, longest, at_least, expected):
    """Pieces within TRANSCRIBE_CHUNK_SECONDS, no more than needed (or than lanes to decode them), about
    equally long (no short tail to decode on its own), each cut in a pause."""
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
    pieces = list(read_chunks(wav_path, longest, at_least))
    assert len(pieces) == expected
    assert np.array_equal(np.concatenate([audio for _, audio in pieces]), samples / 32768.0)
    assert [offset for offset, _ in pieces] == [0, *np.cumsum([len(a) / rate for _, a in pieces])[:-1].tolist()]
    lengths = [len(audio) / rate for _, audio in pieces]
    assert max(lengths) <= longest and max(lengths) - min(lengths) <= CUT_SEARCH_SECONDS
    for offset, _ in pieces[1:]:  # each cut falls in a pause
        assert offset % 2 > 1.7


def test_pieces_decoded_side_by_side_give_the_transcript_of_one_at_a_time(tmp_path):
    """With two threads, two pieces are decoded at once (a lane each, the batch split between them); the
    sentences come back in the audio's order with the same words and times as when the pieces are decoded
    one after the other, and the progress reported only grows."""
    said = ("Let us start with the soil. A rooftop garden needs a light growing medium. "
            "The second question is water. Rain barrels can cut water use in half. "
            "Now a word about money. The first year is expensive. "
            "Finally, community matters most. Neighbours share tools and harvests.")
    wav = tmp_path / "speech.wav"
    audio.convert(speak(said, tmp_path / "spoken.wav"), [(wav, audio.SPEECH)])
    duration = audio.duration_of(wav)
    assert len(list(read_chunks(wav, 8))) >= 3

    def transcribe(threads: int):
        settings = Settings(data_dir=tmp_path, whisper_model="tiny.en", whisper_threads=threads,
                            transcribe_chunk_seconds=8)
        reported = []
        transcript = FasterWhisperTranscriber(settings).transcribe(wav, duration, lambda done, _: reported.append(done))
        return transcript, reported

    assert decoding_lanes(1, 4) == 1 and decoding_lanes(2, 4) == 2
    (alone, _), (side_by_side, two_lanes) = transcribe(1), transcribe(2)
    assert [(s.start, s.end, s.text, s.words) for s in side_by_side.segments] == \
           [(s.start, s.end, s.text, s.words) for s in alone.segments]
    assert [s.start for s in side_by_side.segments] == sorted(s.start for s in side_by_side.segments)
    assert jiwer_wer(said, side_by_side.text) <= 0.2, side_by_side.text
    assert two_lanes == sorted(two_lanes) and two_lanes[-1] > 0.8


def jiwer_wer(said: str, heard: str) -> float:
    import jiwer  # a test tool, installed with the dev requirements

    return jiwer.wer(normalise(said), normalise(heard))
