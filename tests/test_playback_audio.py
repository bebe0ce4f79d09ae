"""The audio kept for playback: a light sound track browsers play is kept as it is, anything else is encoded."""

import ffmpeg
import pytest

from core import api
from core.sources import audio
from core.sources.media import Download, prepare
from testkit.media import speak

SAID = "The audio kept for the player is the sound track itself when a browser can play it."


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    return speak(SAID, tmp_path_factory.mktemp("speech") / "speech.wav")


def _media(speech, target, **sound):
    ffmpeg.output(ffmpeg.input(str(speech)).audio, str(target), **sound).global_args("-v", "error").run()
    return target


def _prepared(media, workdir, max_kbps):
    workdir.mkdir()
    return prepare(Download(media, None, {}), workdir, lambda *_: None, 3600, max_kbps)


def _stream(path):
    return next(s for s in audio.probe(path)["streams"] if s["codec_type"] == "audio")


@pytest.mark.parametrize("name, sound, kept_as", [
    ("light.m4a", {"acodec": "aac", "audio_bitrate": "64k"}, ".m4a"),
    ("light.mp3", {"acodec": "libmp3lame", "audio_bitrate": "64k"}, ".mp3"),
])
def test_a_light_sound_track_browsers_play_is_kept_as_it_is(speech, tmp_path, name, sound, kept_as):
    source = _media(speech, tmp_path / name, **sound)
    prepared = _prepared(source, tmp_path / "work", 96)
    assert prepared.stored_path.suffix == kept_as
    kept, original = _stream(prepared.stored_path), _stream(source)
    assert (kept["codec_name"], kept["sample_rate"], kept["channels"]) == \
           (original["codec_name"], original["sample_rate"], original["channels"])
    assert prepared.stored_sample_rate == int(original["sample_rate"])
    assert abs(audio.duration_of(prepared.stored_path) - prepared.duration) < 0.2
    assert audio.sample_rate_of(prepared.wav_path) == 16_000  # speech-to-text's copy is made all the same
    if kept_as == ".m4a":  # its index comes first, so a player starts before the whole file is fetched
        data = prepared.stored_path.read_bytes()
        assert data.index(b"moov") < data.index(b"mdat")


@pytest.mark.parametrize("name, sound, max_kbps", [
    ("heavy.m4a", {"acodec": "aac", "audio_bitrate": "192k", "ac": 2}, 96),  # above the limit
    ("light.m4a", {"acodec": "aac", "audio_bitrate": "64k"}, 0),  # keeping as it is turned off
    ("speech.ogg", {"acodec": "libvorbis"}, 96),  # a codec not every browser plays
    ("speech.wav", {"acodec": "pcm_s16le"}, 96),
])
def test_other_sound_tracks_are_encoded_to_a_compact_mp3(speech, tmp_path, name, sound, max_kbps):
    prepared = _prepared(_media(speech, tmp_path / name, **sound), tmp_path / "work", max_kbps)
    assert prepared.stored_path.name == "audio.mp3"
    kept = _stream(prepared.stored_path)
    assert (kept["codec_name"], kept["channels"], prepared.stored_sample_rate) == \
           ("mp3", 1, audio.PLAYBACK.sample_rate)


@pytest.mark.parametrize("key, expected", [("temp-audio/j/audio.m4a", "audio/mp4"),
                                           ("temp-audio/j/audio.mp3", "audio/mpeg"),
                                           ("thumbnails/j/thumbnail.jpg", "image/jpeg")])
def test_the_player_is_told_what_it_plays(key, expected):
    assert api.media_type(key) == expected
