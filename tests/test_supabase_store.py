"""The library in a Supabase project reached by its keys alone: the real postgrest and storage3 clients
over HTTP to tests/fake_supabase.py, which runs each call as the key's role on a real Postgres + pgvector
with the migrations applied (grants, Row Level Security and SQL as in a project)."""

import psycopg
import pytest

from core import api
from core.models import Analysis, AudioFile, Segment, Sentiment, Stage, Transcript, Usage, Word
from core.store import DuplicateJob, LibraryUnavailable, ReadOnlyLibrary, get_store
from core.store.supabase import SupabaseStore
from tests.conftest import use_supabase


@pytest.fixture
def project(supabase_project, empty_library, monkeypatch):
    use_supabase(supabase_project, empty_library.env, monkeypatch)
    return supabase_project


def new_job(store, video_id="abc123def45"):
    return store.create_job(url=f"https://www.youtube.com/watch?v={video_id}", platform="youtube",
                            extractor="Youtube", video_id=video_id)


def test_rows_round_trip_through_the_rest_api(project):
    store = get_store()
    assert isinstance(store, SupabaseStore)
    job = new_job(store)
    assert job.status == Stage.PENDING and "pending" in job.stage_times
    store.update_job(job.id, title="Knife skills", upload_date="2026-05-01", duration=42.5)
    store.enter_stage(job.id, Stage.TRANSCRIBING, "warming up")
    store.save_audio_file(AudioFile(job_id=job.id, audio_path=f"{job.id}/audio.mp3", duration=42.5,
                                    size_bytes=1000, sample_rate=16000))
    transcript = Transcript(text="Hold the knife. Curl your fingers.", language="en", engine="test", segments=[
        Segment(start=0, end=2, text="Hold the knife.", words=[Word(start=0, end=0.5, text="Hold")]),
        Segment(start=2, end=4, text="Curl your fingers.")])
    store.save_transcript(job.id, transcript)
    analysis = Analysis(summary="Knife safety.", topics=["knife", "fingers"], category="food", language="en",
                        sentiment=Sentiment(label="positive", score=0.4), segment_sentiment=[0.1, 0.2], engine="test")
    store.save_analysis(job.id, analysis)
    store.add_usage(job.id, [Usage(stage="transcribing", engine="openai", model="whisper-1", audio_seconds=42.5,
                                   cost_usd=0.004)])

    loaded = store.get_job(job.id)
    assert (loaded.title, loaded.upload_date, loaded.duration, loaded.status) == \
        ("Knife skills", "2026-05-01", 42.5, Stage.TRANSCRIBING)
    assert loaded.progress_detail == "warming up" and "transcribing" in loaded.stage_times
    assert store.get_transcript(job.id) == transcript
    assert store.get_analysis(job.id) == analysis
    assert store.get_audio_file(job.id).duration == 42.5
    assert store.get_segments([(job.id, 1)])[(job.id, 1)].text == "Curl your fingers."
    assert store.costs() == {job.id: pytest.approx(0.004)}
    assert [j.id for j in store.list_jobs(statuses=["transcribing"])] == [job.id]

    # Reads went out with the anon key, writes with the service role key, all as RPC calls.
    roles = {(path.rsplit("/", 1)[-1], role) for method, path, role in project.calls("/rest/v1/rpc/")}
    assert ("get_transcript", "anon") in roles and ("save_transcript", "service_role") in roles
    assert not any(role == "anon" and name.startswith(("save", "create", "update")) for name, role in roles)


def test_the_same_video_is_refused_as_a_duplicate(project):
    store = get_store()
    first = new_job(store)
    with pytest.raises(DuplicateJob) as caught:
        new_job(store)
    assert caught.value.existing.id == first.id


def test_a_video_is_indexed_only_once_all_its_vectors_are_in(project):
    import numpy as np

    store = get_store()
    job = new_job(store)
    store.save_transcript(job.id, Transcript(text="x", segments=[Segment(start=i, end=i + 1, text=f"s{i}")
                                                                  for i in range(600)]))
    vectors = np.random.default_rng(1).standard_normal((600, 384)).astype(np.float32)
    store.save_embeddings(job.id, "m", vectors)  # three requests of 256 rows
    assert store.has_embeddings(job.id, "m")
    with psycopg.connect(project.database_url) as conn:
        assert conn.execute("select count(*) from embeddings where job_id = %s", (job.id,)).fetchone()[0] == 601
        conn.execute("delete from embeddings where job_id = %s and segment_idx = -1", (job.id,))
    assert not store.has_embeddings(job.id, "m")  # as if the worker died before the last batch


def test_anon_key_alone_reads_but_cannot_change_anything(supabase_project, empty_library, monkeypatch):
    use_supabase(supabase_project, empty_library.env, monkeypatch, anon=False)
    job = new_job(get_store())
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY")
    use_supabase(supabase_project, empty_library.env, monkeypatch, service=False)
    assert api.read_only()
    assert [j.id for j in api.list_jobs()] == [job.id]
    with pytest.raises(ReadOnlyLibrary, match="SUPABASE_SERVICE_ROLE_KEY"):
        api.delete(job.id)
    assert api.get_job(job.id) is not None


def test_anon_cannot_call_writes_even_directly(project):
    """What the migrations grant, not only what the app chooses to send."""
    from postgrest.exceptions import APIError

    from core.store.supabase_client import supabase_client

    job = new_job(get_store())
    anon = supabase_client(project.url, project.anon_key)
    with pytest.raises(APIError) as caught:
        anon.rpc("delete_job", {"p_id": job.id}).execute()
    assert caught.value.code == "42501"
    assert get_store().get_job(job.id) is not None


def test_a_library_hidden_from_anon_is_read_with_the_service_role(project, monkeypatch):
    job = new_job(get_store())
    with psycopg.connect(project.database_url) as conn:
        conn.execute("update app_settings set value = 'false' where key = 'library_public'")
    from core.store import _open_store

    _open_store.cache_clear()
    assert [j.id for j in api.list_jobs()] == [job.id]  # both keys: the app falls back to the service role
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY")
    _open_store.cache_clear()
    assert api.list_jobs() == []  # the anon key alone sees nothing


def test_gateway_trouble_on_reads_is_retried(project):
    store = get_store()
    job = new_job(store)
    project.fail_next(2, 503)
    assert store.get_job(job.id).id == job.id


def test_a_write_is_not_repeated_blindly_and_fails_clearly(project):
    store = get_store()
    job = new_job(store)
    project.fail_next(1, 502)
    with pytest.raises(LibraryUnavailable, match="not answering"):
        store.update_job(job.id, title="maybe")
    assert store.get_job(job.id).title is None


def test_unreachable_project_gives_a_clear_error(empty_library, monkeypatch):
    from tests.conftest import free_port

    monkeypatch.setenv("SUPABASE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "x.y.z")
    with pytest.raises(LibraryUnavailable, match="Cannot reach Supabase"):
        api.list_jobs()


def test_large_media_go_up_in_resumable_pieces_and_survive_a_failed_one(supabase_project, tmp_path):
    import os

    from core.store.files import SupabaseFiles

    data = os.urandom(13 * 1024 * 1024)  # three pieces: 6 + 6 + 1 MB
    source = tmp_path / "audio.mp3"
    source.write_bytes(data)
    files = SupabaseFiles(supabase_project.url, supabase_project.service_key, "temp-audio", "thumbnails")
    supabase_project.fail_next(1, 503, method="PATCH", after=1)  # the second piece fails once
    assert files.put("temp-audio", "job1/audio.mp3", source) == "temp-audio/job1/audio.mp3"

    assert (supabase_project.storage / "temp-audio" / "job1" / "audio.mp3").read_bytes() == data
    calls = [method for method, path, _ in supabase_project.calls("/storage/v1/upload/resumable")]
    assert calls.count("POST") == 1 and "HEAD" in calls  # one upload, asked where to carry on
    assert calls.count("PATCH") == 4  # three pieces, one sent twice: the first was not sent again
    assert files.url("temp-audio/job1/audio.mp3")  # and it is there to be played


def test_read_only_app_browses_and_searches_but_offers_no_submit(supabase_project, empty_library, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from core.config import get_settings
    from core.providers.embed import get_embedder
    from testkit.library import add_video
    from tests.conftest import ROOT
    from tests.test_pages import texts

    use_supabase(supabase_project, empty_library.env, monkeypatch, anon=False)
    add_video(get_store(), get_embedder(get_settings()), video_id="garden00001", title="Rooftop gardens",
              sentences=["Tomatoes need six hours of sunshine.", "Water the plants early."])
    monkeypatch.delenv("SUPABASE_SERVICE_ROLE_KEY")
    use_supabase(supabase_project, empty_library.env, monkeypatch, service=False)

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    assert not at.exception
    assert "read-only" in "\n".join(i.value for i in at.info)
    assert at.button[0].disabled
    at.switch_page("pages/library.py").run()
    assert not at.exception and "Rooftop gardens" in texts(at)
    assert api.search("how much sun do vegetables need", limit=1)[0].title == "Rooftop gardens"


def test_unreachable_project_is_reported_on_the_page(empty_library, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT, free_port

    monkeypatch.setenv("SUPABASE_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("SUPABASE_SERVICE_ROLE_KEY", "x.y.z")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60).run()
    at.switch_page("pages/library.py").run()
    assert not at.exception
    assert "Cannot reach Supabase" in "\n".join(e.value for e in at.error)


def test_anon_reads_who_is_known_by_voice_but_never_the_voice_prints(project):
    from postgrest.exceptions import APIError

    from core.models import VoiceSample
    from core.store.supabase_client import supabase_client

    job = new_job(get_store())
    get_store().save_voice_sample(VoiceSample(job_id=job.id, speaker="S1", name="Ada", seconds=3.0, voice=[0.5] * 256))
    anon = supabase_client(project.url, project.anon_key)
    assert anon.rpc("voice_names", {}).execute().data == [{"job_id": job.id, "speaker": "S1", "name": "Ada",
                                                            "seconds": 3.0, "model": "ge2e", "has_voice": True}]
    with pytest.raises(APIError) as caught:
        anon.rpc("voice_samples", {}).execute()
    assert caught.value.code == "42501"
    with psycopg.connect(project.database_url) as conn:  # the table as the anon role sees it
        conn.execute("set role anon")
        assert conn.execute("select name from voice_samples").fetchall() == [("Ada",)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select voice from voice_samples")
