"""Who said what: speakers found offline in generated conversations (flite's and espeak-ng's voices taking turns),
through the real pipeline; named once, and used by show --json, the exports, the HTTP API and the video page."""

import json
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from core import api
from core.pipeline import run_now
from core.server import app as http_app
from testkit import media
from tests.conftest import ROOT, transcript_rows

GARDEN = [
    ("flite:slt", "Welcome back to the show. Today we are talking about gardens in small city flats."),
    ("en-us+m3", "Thanks for having me. I have grown tomatoes on my balcony for six summers now."),
    ("flite:slt", "How much sun do the plants need on an ordinary day in July?"),
    ("en-us+m3", "At least six hours of direct light, and plenty of water in the evening."),
]
PANEL = [
    ("flite:rms", "Our listeners often ask which vegetables are easiest for beginners."),
    ("flite:slt", "Lettuce, radishes and beans are hard to get wrong, even in pots."),
    ("en-gb+f2", "I would add that basil grows well beside them and keeps insects away."),
    ("flite:rms", "What about the soil, do you buy it or make your own compost at home?"),
    ("flite:slt", "I make my own from kitchen scraps in a small bin under the sink."),
    ("en-gb+f2", "A first balcony garden costs less than a dinner for two in town."),
]
REUNION = [  # the garden show's voices again, in another recording, with a voice the library has not heard
    ("en-us+m3", "Good to be back. The tomatoes did well this year, even in the cold spring."),
    ("flite:slt", "Our listeners sent photos of their balconies, full of beans and lettuce."),
    ("flite:rms", "I am new here, and I grow herbs on a narrow window sill in the city."),
    ("en-us+m3", "Herbs are a fine start, mint and parsley forgive almost anything."),
]
MONOLOGUE = [("flite:awb", "The pots can be old buckets, and seeds are cheap in early spring. Lettuce grows "
                           "quickly in the shade, and radishes are ready in four weeks.")]


@pytest.fixture(scope="module")
def conversations(tmp_path_factory):
    """MP4s of conversations on a local site, and who speaks when in each."""
    site = tmp_path_factory.mktemp("conversations")
    turns = {}
    for name, lines, pause in (("garden", GARDEN, 0.4), ("panel", PANEL, 0.0), ("monologue", MONOLOGUE, 0.3),
                               ("reunion", REUNION, 0.3)):
        turns[name] = media.conversation(lines, site / f"{name}.wav", pause)
        media.video_of(site / f"{name}.wav", site / f"{name}.mp4")
    server, url = media.serve(site)
    yield url, turns
    server.shutdown()


def voice_at(turns, moment: float) -> str | None:
    return next((voice for start, end, voice in turns if start - 0.1 <= moment <= end + 0.1), None)


def attributed_right(segments: list[dict], turns) -> float:
    """The share of speech time whose speaker is the voice that said it, under the best matching of the two."""
    said: dict[tuple[str, str], float] = {}
    for segment in segments:
        voice = voice_at(turns, (segment["start"] + segment["end"]) / 2)
        key = (segment["speaker"], voice)
        said[key] = said.get(key, 0.0) + segment["end"] - segment["start"]
    best: dict[str, tuple[float, str]] = {}
    for (speaker, voice), seconds in said.items():
        if voice and seconds > best.get(speaker, (0.0, ""))[0]:
            best[speaker] = (seconds, voice)
    assert len({voice for _, voice in best.values()}) == len(best), "two speakers took one voice"
    return sum(seconds for seconds, _ in best.values()) / sum(said.values())


def test_two_voices_taking_turns_are_two_speakers_named_once_and_used_everywhere(conversations, empty_library):
    url, turns = conversations
    job = run_now(f"{url}/garden.mp4")
    assert job.status == "completed", job.error
    shown = json.loads(empty_library.cli("show", job.id, "--json").stdout)
    assert [s["id"] for s in shown["speakers"]] == ["S1", "S2"]
    assert all(set(s) == {"id", "name", "suggested_name", "seconds"} and s["name"] is None and s["seconds"] > 2
               for s in shown["speakers"])
    segments = shown["transcript"]["segments"]
    assert {s["speaker"] for s in segments} == {"S1", "S2"} and segments[0]["speaker"] == "S1"
    assert attributed_right(segments, turns["garden"]) >= 0.9
    assert "stage_times" in shown and "diarizing" in shown["stage_times"]

    named = empty_library.cli("speakers", job.id, "--set", "S1=Ada Lovelace", "S2=Grace", "--json")
    assert named.returncode == 0, named.stderr
    assert [(s["id"], s["name"]) for s in json.loads(named.stdout)] == [("S1", "Ada Lovelace"), ("S2", "Grace")]
    listed = empty_library.cli("speakers", job.id)
    assert "Ada Lovelace" in listed.stdout and "Grace" in listed.stdout

    first = next(s for s in segments if s["speaker"] == "S1")
    name, srt = api.export(job.id, "srt")
    assert f"Ada Lovelace: {first['text']}" in srt and "Grace: " in srt
    _, vtt = api.export(job.id, "vtt")
    assert f"<v Ada Lovelace>{first['text']}" in vtt and "<v Grace>" in vtt
    _, text = api.export(job.id, "txt")
    assert text.startswith(f"Ada Lovelace: {first['text']}")
    _, markdown = api.export(job.id, "md")
    assert "Grace: " in markdown
    exported = json.loads(api.export(job.id, "json")[1])
    assert [s["name"] for s in exported["transcript"]["speakers"]] == ["Ada Lovelace", "Grace"]
    assert "voice" not in exported["transcript"]["speakers"][0] and exported["transcript"]["segments"][0]["speaker"]

    client = TestClient(http_app)
    assert [s["name"] for s in client.get(f"/jobs/{job.id}/speakers").json()] == ["Ada Lovelace", "Grace"]
    renamed = client.patch(f"/jobs/{job.id}/speakers", json={"S2": "Grace Hopper", "S1": None})
    assert renamed.status_code == 200 and [s["name"] for s in renamed.json()] == [None, "Grace Hopper"]
    assert client.patch(f"/jobs/{job.id}/speakers", json={"S9": "Nobody"}).status_code == 400
    assert client.get("/jobs/nosuchjob0000/speakers").status_code == 404
    refused = empty_library.cli("speakers", job.id, "--set", "S1")
    assert refused.returncode == 2 and "S1=Ada" in refused.stderr
    details = client.get(f"/jobs/{job.id}?details=true").json()
    assert [s["name"] for s in details["speakers"]] == [None, "Grace Hopper"]

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params["job"] = job.id
    at.switch_page("pages/video.py").run()
    assert not at.exception
    page = " ".join(str(m.value) for m in at.markdown)
    assert ":blue-badge[S1 · " in page and ":orange-badge[Grace Hopper · " in page  # talk time beside each name
    said_by = [(row["speaker"], row["colour"]) for row in transcript_rows(at) if row["speaker"]]
    assert ("Grace Hopper", "orange") in said_by  # the name where that voice starts speaking
    [first_name] = [box for box in at.text_input if box.key == "speaker-S1"]
    first_name.input("Ada")  # a form's values go with its button
    [save] = [b for b in at.button if b.label == "Save names"]
    save.click().run()
    assert not at.exception and [s.name for s in api.speakers(job.id)] == ["Ada", "Grace Hopper"]

    corrected = api.edit_segment(job.id, 1, segments[1]["text"] + " Indeed.")
    assert corrected.revision == 1 and api.transcript(job.id).segments[1].speaker == segments[1]["speaker"]

    # search and ask keep to what one person said, and say who said it
    hits = json.loads(empty_library.cli("search", "tomatoes on the balcony", "--json").stdout)
    assert hits and hits[0]["speaker"] == "Grace Hopper"
    only_ada = json.loads(empty_library.cli("search", "tomatoes on the balcony", "--speaker", "ada", "--json").stdout)
    assert only_ada and {hit["speaker"] for hit in only_ada} == {"Ada"}
    answer = client.post("/ask", json={"question": "Where does the guest grow tomatoes?",
                                       "filters": {"speaker": "grace hopper"}}).json()
    assert answer["citations"] and {c["speaker"] for c in answer["citations"]} == {"Grace Hopper"}
    assert client.get("/search", params={"q": "sun", "speaker": "Nobody"}).json() == []

    search_page = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    search_page.query_params["filters"] = "true"  # the Filters box open
    search_page.switch_page("pages/search.py").run()
    [said_by] = [box for box in search_page.multiselect if box.label == "Said by"]
    assert set(said_by.options) == {"Ada", "Grace Hopper"}
    said_by.select("Grace Hopper")
    search_page.text_input[0].input("tomatoes on the balcony").run()
    assert not search_page.exception
    found = " ".join(str(m.value) for m in search_page.markdown)
    assert ":blue-badge[Grace Hopper]" in found and ":blue-badge[Ada]" not in found
    closed = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    closed.session_state["filters-chosen"] = {"speakers": ["Grace Hopper"]}  # chosen before the box was closed
    closed.switch_page("pages/search.py").run()
    closed.text_input[0].input("tomatoes on the balcony").run()
    said = " ".join(str(c.value) for c in closed.caption)
    assert "said by" in said and "Grace Hopper" in said  # still in force, and said
    found = " ".join(str(m.value) for m in closed.markdown)
    assert ":blue-badge[Grace Hopper]" in found and ":blue-badge[Ada]" not in found
    dashboard = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    dashboard.query_params["dashboard-tab"] = "🗣️ People"
    dashboard.switch_page("pages/dashboard.py").run()
    assert not dashboard.exception
    [talk] = dashboard.get("plotly_chart")
    assert "Talk time per person" in talk.proto.spec and "Grace Hopper" in talk.proto.spec


def test_three_voices_without_pauses_and_a_monologue(conversations, empty_library):
    url, turns = conversations
    panel = api.job_details(run_now(f"{url}/panel.mp4").id)
    assert [s.id for s in panel.speakers] == ["S1", "S2", "S3"]
    segments = [s.model_dump() for s in panel.transcript.segments]
    assert attributed_right(segments, turns["panel"]) >= 0.85
    # a turn taken without a pause still starts a new segment of its own speaker
    assert len(segments) >= len(PANEL) - 1

    alone = api.job_details(run_now(f"{url}/monologue.mp4").id)
    assert [s.id for s in alone.speakers] == ["S1"] and alone.speakers_note == "One voice speaks throughout."
    assert {s.speaker for s in alone.transcript.segments} == {"S1"}


def test_a_damaged_speaker_model_leaves_one_voice_and_says_why(conversations, empty_library, tmp_path):
    """The resemblyzer package's weights replaced by something else: the job completes, without speakers."""
    url, _ = conversations
    damaged = tmp_path / "damaged" / "resemblyzer"
    damaged.mkdir(parents=True)
    (damaged / "__init__.py").write_text("")
    (damaged / "pretrained.pt").write_bytes(b"not the model")
    env = dict(empty_library.env, PYTHONPATH=f"{damaged.parent}:{empty_library.env['PYTHONPATH']}")
    empty_library.env = env
    done = empty_library.cli("run", f"{url}/garden.mp4")
    assert done.returncode == 0, done.stderr
    job_id = api.list_jobs()[0].id
    details = api.job_details(job_id)
    assert details.status == "completed" and details.speakers == []
    assert "damaged or was replaced" in details.speakers_note
    assert details.transcript.segments and all(s.speaker is None for s in details.transcript.segments)


def test_with_diarization_off_a_transcript_stays_one_voice(conversations, empty_library, monkeypatch):
    url, _ = conversations
    monkeypatch.setenv("DIARIZATION", "off")
    details = api.job_details(run_now(f"{url}/garden.mp4").id)
    assert details.speakers == [] and details.speakers_note is None
    assert "diarizing" not in details.stage_times
    assert all(s.speaker is None for s in details.transcript.segments)


def test_a_name_follows_the_voice_into_later_videos_until_forgotten(conversations, empty_library):
    url, _ = conversations
    garden = run_now(f"{url}/garden.mp4")
    api.name_speakers(garden.id, {"S1": "Ada", "S2": "Grace"})  # slt is Ada, m3 is Grace
    assert {(p.name, p.videos) for p in api.voices()} == {("Ada", 1), ("Grace", 1)}

    reunion = run_now(f"{url}/reunion.mp4")
    shown = json.loads(empty_library.cli("show", reunion.id, "--json").stdout)
    suggested = {s["id"]: (s["name"], s["suggested_name"]) for s in shown["speakers"]}
    assert suggested == {"S1": (None, "Grace"), "S2": (None, "Ada"), "S3": (None, None)}  # rms is nobody known

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.query_params["job"] = reunion.id
    at.switch_page("pages/video.py").run()
    page = " ".join(str(m.value) for m in at.markdown)
    assert "(sounds like Grace?)" in page and "(sounds like Ada?)" in page

    confirmed = empty_library.cli("speakers", reunion.id, "--set", "S1=Grace")
    assert confirmed.returncode == 0, confirmed.stderr
    rejected = TestClient(http_app).patch(f"/jobs/{reunion.id}/speakers", json={"S2": None}).json()
    assert [(s["name"], s["suggested_name"]) for s in rejected] == [("Grace", None), (None, None), (None, None)]
    people = json.loads(empty_library.cli("voices", "--json").stdout)
    assert [(p["name"], p["videos"]) for p in people] == [("Grace", 2), ("Ada", 1)]
    assert people[0]["seconds"] > people[1]["seconds"] > 0 and "voice" not in people[0]
    assert TestClient(http_app).get("/voices").json() == people

    forgot = empty_library.cli("voices", "--forget", "ada")
    assert forgot.returncode == 0 and "Forgot the voice print of ada" in forgot.stdout
    assert [p.name for p in api.voices()] == ["Grace"]
    assert [s.name for s in api.speakers(garden.id)] == ["Ada", "Grace"]  # the names given stay
    assert [(p.name, p.recognised) for p in api.people()] == [("Grace", True), ("Ada", False)]  # and talk time
    again = empty_library.cli("voices", "--forget", "Ada")
    assert again.returncode == 2 and "No voice print" in again.stderr
    api.delete(reunion.id)  # a video's voices leave with it
    assert [(p.name, p.videos) for p in api.voices()] == [("Grace", 1)]
    assert {p.name for p in api.people([garden.id])} == {"Ada", "Grace"}


def looped(sound: Path, seconds: float, target: Path) -> Path:
    """The sound with a pause of 0.6 s after it, repeated for `seconds`, as 16 kHz mono."""
    paused = sound.with_suffix(".paused.wav")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(sound), "-af", "apad=pad_dur=0.6", str(paused)],
                   check=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-stream_loop", "-1", "-i", str(paused), "-t", str(seconds),
                    "-ac", "1", "-ar", "16000", str(target)], check=True)
    return target


def test_a_hosted_model_labels_speakers_piece_by_piece_and_they_are_joined_by_voice(tmp_path, empty_library,
                                                                                   monkeypatch):
    """gpt-4o-transcribe-diarize names speakers A, B... within each 10-minute piece; the second piece here opens with
    the other voice, so its "A" is the first piece's "B". The local voice prints join them into one S1 and S2."""
    from testkit.fake_openai import FakeOpenAI

    site = tmp_path / "site"
    site.mkdir()
    her_first = media.conversation([GARDEN[0], GARDEN[1]], tmp_path / "her-first.wav", 0.6)
    him_first = media.conversation([GARDEN[3], GARDEN[2]], tmp_path / "him-first.wav", 0.6)
    assert her_first[0][2] == "flite:slt" and him_first[0][2] == "en-us+m3"
    first = looped(tmp_path / "her-first.wav", 596.0, tmp_path / "first.wav")  # the second piece starts at 596 s
    second = looped(tmp_path / "him-first.wav", 90.0, tmp_path / "second.wav")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(first), "-i", str(second), "-filter_complex",
                    "concat=n=2:v=0:a=1", "-b:a", "48k", str(site / "long-talk.mp3")], check=True)
    fake = FakeOpenAI()
    server, url = media.serve(site)
    try:
        for key, value in {"OPENAI_API_KEY": "sk-test-diarize", "OPENAI_BASE_URL": fake.base_url,
                           "OPENAI_TRANSCRIBE_MODEL": "gpt-4o-transcribe-diarize",
                           "EMBEDDING_ENGINE": "local", "ANALYSIS_ENGINE": "local"}.items():
            monkeypatch.setenv(key, value)
        job = run_now(f"{url}/long-talk.mp3")
    finally:
        server.shutdown()
        fake.close()
    assert job.status == "completed", job.error
    uploads = fake.calls("/v1/audio/transcriptions")
    assert len(uploads) == 2 and {u["response_format"] for u in uploads} == {"diarized_json"}
    assert all(u["prompt"] is None for u in uploads)  # the diarizing model takes no prompt
    details = api.job_details(job.id)
    assert [s.id for s in details.speakers] == ["S1", "S2"]
    segments = details.transcript.segments

    def voice_at_moment(moment: float) -> str:
        turns = her_first if moment < 596 else him_first
        length = turns[-1][1] + 0.6  # each loop is the conversation and a pause
        offset = (moment if moment < 596 else moment - 596) % length
        return next((voice for start, end, voice in turns if start - 0.3 <= offset <= end + 0.3), "pause")

    said = {}
    for segment in segments:
        voice = voice_at_moment((segment.start + segment.end) / 2)
        said[(segment.speaker, voice)] = said.get((segment.speaker, voice), 0) + segment.end - segment.start
    her = max(("S1", "S2"), key=lambda s: said.get((s, "flite:slt"), 0))
    him = "S2" if her == "S1" else "S1"
    right = said.get((her, "flite:slt"), 0) + said.get((him, "en-us+m3"), 0)
    assert right / sum(said.values()) >= 0.9, said
    assert {s.speaker for s in segments if s.start > 600} == {"S1", "S2"}  # the second piece's labels were matched


def test_campplus_tells_the_same_voices_apart_and_its_prints_stay_among_themselves(conversations, empty_library,
                                                                                  monkeypatch):
    url, turns = conversations
    monkeypatch.setenv("SPEAKER_MODEL", "campplus")
    garden = api.job_details(run_now(f"{url}/garden.mp4").id)
    assert [s.id for s in garden.speakers] == ["S1", "S2"]
    assert attributed_right([s.model_dump() for s in garden.transcript.segments], turns["garden"]) >= 0.9
    assert {s.voice_model for s in api.transcript(garden.id).speakers} == {"campplus"}
    api.name_speakers(garden.id, {"S1": "Ada", "S2": "Grace"})

    reunion = api.job_details(run_now(f"{url}/reunion.mp4").id)
    assert [(s.id, s.suggested_name) for s in reunion.speakers] == [("S1", "Grace"), ("S2", "Ada"), ("S3", None)]
    monkeypatch.setenv("SPEAKER_MODEL", "ge2e")  # GE2E's prints are never compared with CAM++'s
    panel = api.job_details(run_now(f"{url}/panel.mp4").id)
    assert panel.speakers and all(s.suggested_name is None for s in panel.speakers)
