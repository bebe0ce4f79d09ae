"""One contract for every store: the same behaviour on the embedded SQLite store, on Postgres + pgvector
(DATABASE_URL) and on a Supabase project reached by its keys (REST API over the same Postgres)."""

import time

import numpy as np
import psycopg
import pytest
import requests

from core.models import (
    Analysis,
    AudioFile,
    Chapter,
    Edit,
    Follow,
    LibraryQuery,
    SearchFilters,
    Segment,
    SegmentChange,
    Sentiment,
    Speaker,
    Stage,
    Theme,
    Transcript,
    Translation,
    Usage,
    VoiceSample,
    Word,
)
from core.store import DuplicateJob, ReadOnlyLibrary, get_store
from core.store.supabase import SupabaseStore
from core.vectors import VIDEO_VECTOR, normalise_rows


@pytest.fixture
def store(backend):
    return get_store(service_role=True)


def run_sql(backend, sqlite_statement: str, postgres_statement: str, args: tuple) -> None:
    """A change made behind the store's back, to set up a state its API cannot reach (a half-written video)."""
    if backend is None:
        with get_store()._tx() as conn:
            conn.execute(sqlite_statement, args)
    else:
        with psycopg.connect(backend) as conn:
            conn.execute(postgres_statement, args)


def media_exists(location) -> bool:
    """Whether a stored file is really there: a local path, or a URL the storage answers (a public
    bucket's URL is made without asking the storage, so it is fetched)."""
    if location is None:
        return False
    if isinstance(location, str):
        return requests.get(location, timeout=10).ok
    return location.is_file()


def new_job(store, video_id="vid00000001", platform="youtube"):
    return store.create_job(url=f"https://example.com/{video_id}", platform=platform,
                            extractor=platform.capitalize(), video_id=video_id)


TRANSCRIPT = Transcript(text="Hello there. General Kenobi.", language="en", engine="test", segments=[
    Segment(start=0.0, end=1.5, text="Hello there.", words=[Word(start=0.0, end=0.6, text="Hello"),
                                                          Word(start=0.7, end=1.5, text="there.")]),
    Segment(start=1.6, end=3.0, text="General Kenobi."),
])
TRANSLATION = Translation(language="es", source_language="en", engine="test", segments=[
    Segment(start=0.0, end=1.5, text="Hola."), Segment(start=1.6, end=3.0, text="General Kenobi del mercado.")])
ANALYSIS = Analysis(summary="A greeting.", topics=["greetings", "star wars"], category="entertainment",
                    sentiment=Sentiment(label="positive", score=0.42), segment_sentiment=[0.4, 0.1],
                    language="en", engine="test")


def vectors(count: int, seed: int = 0) -> np.ndarray:
    return normalise_rows(np.random.default_rng(seed).normal(size=(count, 8)))


def test_create_and_dedupe(store):
    job = new_job(store)
    assert (job.status, job.stage, job.progress) == (Stage.PENDING, Stage.PENDING, 0.0)
    assert set(job.stage_times) == {"pending"} and job.error is None
    with pytest.raises(DuplicateJob) as duplicate:
        new_job(store)
    assert duplicate.value.existing.id == job.id
    assert new_job(store, platform="vimeo").id != job.id  # the same id on another site is another video
    assert store.find_job("youtube", "vid00000001").id == job.id and store.find_job("youtube", "nope") is None


def test_reads_one_and_many(store):
    first, second = new_job(store, "a0000000001"), new_job(store, "b0000000002", platform="vimeo")
    assert store.get_job(first.id).url == first.url and store.get_job("missing") is None
    assert set(store.get_jobs([first.id, second.id, "missing"])) == {first.id, second.id}
    assert store.get_jobs([]) == {}
    assert [j.id for j in store.list_jobs()] == [second.id, first.id]  # newest first
    assert [j.id for j in store.list_jobs(platforms=["vimeo"])] == [second.id]
    store.fail_job(first.id, Stage.DOWNLOADING, "gone")
    assert [j.id for j in store.list_jobs(statuses=["failed"])] == [first.id]


def test_the_library_is_read_a_page_at_a_time_and_counted_by_the_store(store):
    jobs = [new_job(store, f"p{n:010d}", platform="vimeo" if n % 2 else "youtube") for n in range(5)]
    newest_first = [job.id for job in reversed(jobs)]
    assert [j.id for j in store.list_jobs(limit=2)] == newest_first[:2]
    assert [j.id for j in store.list_jobs(limit=2, offset=2)] == newest_first[2:4]
    assert [j.id for j in store.list_jobs(limit=2, offset=4)] == newest_first[4:]
    assert store.list_jobs(limit=2, offset=5) == []
    assert [j.id for j in store.list_jobs(platforms=["vimeo"], limit=1, offset=1)] == [jobs[1].id]
    store.fail_job(jobs[0].id, Stage.DOWNLOADING, "gone")
    store.enter_stage(jobs[1].id, Stage.COMPLETED)
    assert store.job_counts() == {"pending": 3, "failed": 1, "completed": 1}
    assert store.job_counts(platforms=["vimeo"]) == {"pending": 1, "completed": 1}
    assert store.job_counts(collections=["nothing-here"]) == {}


def test_update_keeps_what_it_is_not_told_and_refuses_unknown_fields(store):
    job = new_job(store)
    store.update_job(job.id, title="A title", duration=12.5, progress_detail="half way")
    updated = store.get_job(job.id)
    assert (updated.title, updated.duration, updated.progress_detail, updated.url) == \
        ("A title", 12.5, "half way", job.url)
    assert updated.updated_at >= job.updated_at
    with pytest.raises(ValueError):
        store.update_job(job.id, colour="blue")


def test_stages_failure_and_retry(store):
    job = new_job(store)
    store.update_job(job.id, error="old problem")
    store.enter_stage(job.id, Stage.TRANSCRIBING, "loading")
    running = store.get_job(job.id)
    assert (running.status, running.stage, running.progress, running.progress_detail, running.error) == \
        (Stage.TRANSCRIBING, Stage.TRANSCRIBING, 0.0, "loading", None)
    assert {"pending", "transcribing"} <= set(running.stage_times)
    store.fail_job(job.id, Stage.TRANSCRIBING, "No speech")
    failed = store.get_job(job.id)
    assert (failed.status, failed.stage, failed.error) == (Stage.FAILED, Stage.TRANSCRIBING, "No speech")
    assert "failed" in failed.stage_times
    store.update_job(job.id, status=Stage.PENDING, error=None, progress=0.0, progress_detail="")  # Retry
    again = store.get_job(job.id)
    assert (again.status, again.stage, again.error) == (Stage.PENDING, Stage.TRANSCRIBING, None)
    store.enter_stage(job.id, Stage.COMPLETED)
    done = store.get_job(job.id)
    assert (done.status, done.progress, done.is_final) == (Stage.COMPLETED, 1.0, True)


def test_transcripts_with_words_and_segments(store):
    job = new_job(store)
    assert store.get_transcript(job.id) is None
    store.save_transcript(job.id, TRANSCRIPT)
    store.save_transcript(job.id, TRANSCRIPT)  # saving again replaces, never duplicates
    assert store.get_transcript(job.id) == TRANSCRIPT
    assert store.get_segments([(job.id, 1), (job.id, 5)]) == {(job.id, 1): TRANSCRIPT.segments[1]}


def test_translations_sit_beside_the_transcript(store):
    job = new_job(store)
    store.save_transcript(job.id, TRANSCRIPT)
    assert store.get_translation(job.id) is None
    assert store.get_segments([(job.id, 1)])[(job.id, 1)].translation is None
    store.save_translation(job.id, TRANSLATION)
    store.save_translation(job.id, TRANSLATION)  # saving again replaces, never duplicates
    assert store.get_translation(job.id) == TRANSLATION
    assert store.get_translation(job.id).text == "Hola. General Kenobi del mercado."
    assert store.get_segments([(job.id, 1)])[(job.id, 1)].translation == "General Kenobi del mercado."
    assert store.get_transcript(job.id) == TRANSCRIPT  # the original stays what it was
    store.enter_stage(job.id, Stage.TRANSLATING)  # a status that only the step registry declares
    assert store.get_job(job.id).status == Stage.TRANSLATING


def test_analysis_and_audio(store, tmp_path):
    job = new_job(store)
    assert store.get_analysis(job.id) is None and store.get_analyses([job.id]) == {}
    store.save_analysis(job.id, ANALYSIS)
    assert store.get_analysis(job.id) == ANALYSIS
    assert store.get_analyses([job.id, "missing"]) == {job.id: ANALYSIS}
    audio = AudioFile(job_id=job.id, audio_path=f"temp-audio/{job.id}/audio.mp3",
                      thumbnail_path=f"thumbnails/{job.id}/thumbnail.jpg", duration=3.0, size_bytes=10,
                      sample_rate=22050)
    store.save_audio_file(audio)
    assert store.get_audio_file(job.id) == audio and store.get_audio_files([job.id]) == {job.id: audio}


def test_a_search_hit_reads_its_moment_video_thumbnail_and_language_at_once(store):
    job, bare = new_job(store), new_job(store, "vid00000002")
    store.save_transcript(job.id, TRANSCRIPT.model_copy(update={
        "diarized": True, "speakers": [Speaker(id="S1", name="Ada", seconds=1.5)],
        "segments": [TRANSCRIPT.segments[0].model_copy(update={"speaker": "S1"}), TRANSCRIPT.segments[1]]}))
    store.save_translation(job.id, TRANSLATION)
    store.save_analysis(job.id, ANALYSIS)
    store.save_audio_file(AudioFile(job_id=job.id, audio_path=f"temp-audio/{job.id}/audio.mp3",
                                    thumbnail_path=f"thumbnails/{job.id}/thumbnail.jpg", duration=3.0,
                                    size_bytes=10, sample_rate=22050))
    store.save_transcript(bare.id, Transcript(text="x", engine="test", segments=[Segment(start=0, end=1, text="x")]))
    moments = store.found_moments([(job.id, 0), (job.id, 1), (job.id, 9), (bare.id, 0), ("missing", 0)])
    assert set(moments) == {(job.id, 0), (job.id, 1), (bare.id, 0)}
    said = moments[(job.id, 0)]
    assert said.job == store.get_job(job.id) and said.language == "en"
    assert said.thumbnail_path == f"thumbnails/{job.id}/thumbnail.jpg"
    assert (said.segment.text, said.segment.start, said.segment.end) == ("Hello there.", 0.0, 1.5)
    assert (said.segment.speaker, said.segment.speaker_name) == ("S1", "Ada")
    assert (said.segment.translation, said.segment.translation_language) == ("Hola.", "es")
    assert moments[(job.id, 1)].segment.speaker_name is None
    assert moments[(bare.id, 0)][2:] == (None, None)  # no audio kept, not analysed
    assert store.found_moments([]) == {}


def test_embeddings_count_only_once_the_whole_video_vector_is_in(store, backend):
    job = new_job(store)
    store.enter_stage(job.id, Stage.COMPLETED)
    assert not store.has_embeddings(job.id, "m")
    assert store.jobs_missing_embeddings("m") == [job.id]
    store.save_embeddings(job.id, "m", vectors(3))
    assert store.has_embeddings(job.id, "m") and not store.has_embeddings(job.id, "other-model")
    assert store.jobs_missing_embeddings("m") == [] and store.jobs_missing_embeddings("other-model") == [job.id]
    # A video whose writing stopped before its last (whole-video) vector is not indexed yet.
    run_sql(backend, "DELETE FROM embeddings WHERE job_id = ? AND segment_idx = ?",
            "delete from embeddings where job_id = %s and segment_idx = %s", (job.id, VIDEO_VECTOR))
    assert not store.has_embeddings(job.id, "m")
    store.save_embeddings(job.id, "m", vectors(3))  # written again in full: no duplicate rows
    assert store.has_embeddings(job.id, "m")


def test_usage_and_costs(store):
    job, free = new_job(store, "a0000000001"), new_job(store, "b0000000002")
    store.add_usage(job.id, [Usage(stage="transcribing", engine="openai", model="whisper-1", audio_seconds=60,
                                   cost_usd=0.006),
                             Usage(stage="analyzing", engine="openai", model="gpt-4.1-mini", input_tokens=1000,
                                   output_tokens=100, cost_usd=0.00056),
                             Usage(stage="analyzing", engine="openai", model="self-hosted", input_tokens=5)])
    assert [(u.stage, u.model) for u in store.get_usage(job.id)] == \
        [("transcribing", "whisper-1"), ("analyzing", "gpt-4.1-mini"), ("analyzing", "self-hosted")]
    assert store.costs() == {job.id: pytest.approx(0.00656)}
    assert store.get_usage(free.id) == []


def test_reset_forgets_every_result(store, tmp_path):
    job = new_job(store)
    source = tmp_path / "audio.mp3"
    source.write_bytes(b"ID3 audio")
    key = store.put_blob("temp-audio", f"{job.id}/audio.mp3", source)
    store.save_audio_file(AudioFile(job_id=job.id, audio_path=key, duration=1.0, size_bytes=9, sample_rate=22050))
    store.save_transcript(job.id, TRANSCRIPT)
    store.save_translation(job.id, TRANSLATION)
    store.save_analysis(job.id, ANALYSIS)
    store.save_embeddings(job.id, "m", vectors(2))
    store.add_usage(job.id, [Usage(stage="analyzing", engine="openai", model="gpt-4.1-mini", cost_usd=0.1)])
    store.update_job(job.id, chapters=[Chapter(start=0, end=1.6, title="Hello", source="generated")])
    store.fail_job(job.id, Stage.ANALYZING, "boom")
    store.reset_job(job.id)
    reset = store.get_job(job.id)
    assert reset.chapters == []
    assert (reset.status, reset.stage, reset.error, set(reset.stage_times)) == \
        (Stage.PENDING, Stage.PENDING, None, {"pending"})
    assert store.get_transcript(job.id) is None and store.get_analysis(job.id) is None
    assert store.get_translation(job.id) is None
    assert store.get_audio_file(job.id) is None and not store.has_embeddings(job.id, "m")
    assert store.get_usage(job.id) == [] and not media_exists(store.media_location(key))


def test_delete_removes_everything(store, tmp_path):
    job, other = new_job(store, "a0000000001"), new_job(store, "b0000000002")
    source = tmp_path / "thumbnail.jpg"
    source.write_bytes(b"\xff\xd8 jpeg")
    key = store.put_blob("thumbnails", f"{job.id}/thumbnail.jpg", source)
    for found in (job, other):
        store.save_transcript(found.id, TRANSCRIPT)
        store.save_translation(found.id, TRANSLATION)
        store.save_analysis(found.id, ANALYSIS)
        store.save_embeddings(found.id, "m", vectors(2))
    assert media_exists(store.media_location(key))
    store.delete_job(job.id)
    assert store.get_job(job.id) is None and store.get_transcript(job.id) is None
    assert store.get_analysis(job.id) is None and store.get_segments([(job.id, 0)]) == {}
    assert store.get_translation(job.id) is None and store.get_translation(other.id) == TRANSLATION
    assert not media_exists(store.media_location(key))
    assert store.get_transcript(other.id) == TRANSCRIPT and store.has_embeddings(other.id, "m")


def test_search_with_each_filter(store):
    rng_vectors = vectors(4, seed=7)
    specs = [("a0000000001", "youtube", "food", "positive", "2026-01-10"),
             ("b0000000002", "vimeo", "sports", "negative", "2026-05-20"),
             ("c0000000003", "youtube", "sports", "neutral", None)]
    ids = []
    for n, (video_id, platform, category, label, uploaded) in enumerate(specs):
        job = new_job(store, video_id, platform)
        store.update_job(job.id, upload_date=uploaded)
        store.save_transcript(job.id, Transcript(text="x", language="en", engine="t", segments=[
            Segment(start=0, end=1, text=f"Segment about {category} number {n}"),
            Segment(start=1, end=2, text="Zanzibar spices" if n == 1 else "plain words")]))
        if n == 2:
            store.save_translation(job.id, Translation(language="en", source_language="sw", engine="t", segments=[
                Segment(start=0, end=1, text="Harbour cranes"), Segment(start=1, end=2, text="plain words")]))
        store.save_analysis(job.id, ANALYSIS.model_copy(update={
            "category": category, "sentiment": Sentiment(label=label, score=0.0)}))
        store.save_embeddings(job.id, "m", np.vstack([rng_vectors[n], rng_vectors[3]]))
        store.enter_stage(job.id, Stage.COMPLETED)
        ids.append(job.id)
    query = rng_vectors[1]

    def found(terms=(), **filters):
        return [(job_id, idx) for job_id, idx, _, _ in
                store.search_segments(query, list(terms), "m", 10, SearchFilters(**filters))]

    assert found()[0] == (ids[1], 0)  # the closest meaning first
    # Every video's second segment has the same vector; the one whose words match is lifted above the others.
    with_keyword = found(["zanzibar"])
    assert with_keyword.index((ids[1], 1)) < min(with_keyword.index((ids[0], 1)), with_keyword.index((ids[2], 1)))
    hits = store.search_segments(query, ["zanzibar"], "m", 10, SearchFilters())
    assert any(keyword for job_id, idx, _, keyword in hits if (job_id, idx) == (ids[1], 1))
    assert (ids[2], 0) in found(["cranes"])  # words of the translation find the original moment
    assert dict(((j, i), k) for j, i, _, k in store.search_segments(query, ["cranes"], "m", 10,
                                                                  SearchFilters()))[(ids[2], 0)]
    assert {j for j, _ in found(platforms=["vimeo"])} == {ids[1]}
    assert {j for j, _ in found(categories=["sports"])} == {ids[1], ids[2]}
    assert {j for j, _ in found(sentiments=["positive"])} == {ids[0]}
    assert {j for j, _ in found(date_from="2026-05-01", date_to="2026-06-01")} == {ids[1]}
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert ids[2] in {j for j, _ in found(date_from=today)}  # no upload date: the day it was added counts
    assert found(platforms=["tiktok"]) == []
    assert store.search_segments(query, [], "other-model", 10, SearchFilters()) == []


def test_a_videos_sentences_become_searchable_all_at_once(store):
    """Vectors are stored before a video completes (in batches, on some stores): none is found until it completes,
    then all are."""
    job = new_job(store)
    store.save_transcript(job.id, TRANSCRIPT)
    store.save_analysis(job.id, ANALYSIS)
    stored = vectors(2, seed=3)
    store.save_embeddings(job.id, "m", stored)
    assert store.search_segments(stored[0], ["kenobi"], "m", 10, SearchFilters()) == []
    store.enter_stage(job.id, Stage.COMPLETED)
    found = store.search_segments(stored[0], ["kenobi"], "m", 10, SearchFilters())
    assert {(job_id, idx) for job_id, idx, _, _ in found} == {(job.id, 0), (job.id, 1)}


def test_a_store_says_whether_it_can_write_and_keeps_to_it(backend, request):
    """`read_only` is what the Submit page and the API go by: it is False only where writes succeed, and a store
    that cannot write (a Supabase project reached with the anon key alone) refuses every write the same way."""
    store = get_store()
    if request.node.callspec.params["backend"] != "supabase":
        assert store.read_only is False
        job = new_job(store)
        store.update_job(job.id, title="written")
        assert get_store().get_job(job.id).title == "written"
        return
    project = request.getfixturevalue("supabase_project")
    writer = get_store(service_role=True)
    job = new_job(writer)
    reader = SupabaseStore(project.url, None, project.anon_key, files=writer.files)
    assert reader.read_only and reader.get_job(job.id).id == job.id
    for write in (lambda: reader.update_job(job.id, title="x"), lambda: reader.delete_job(job.id),
                  lambda: new_job(reader, "z0000000009")):
        with pytest.raises(ReadOnlyLibrary):
            write()
    assert writer.get_job(job.id).title is None


def test_collections_group_jobs(store):
    playlist = store.save_collection(url="https://www.youtube.com/playlist?list=PL1", platform="youtube",
                                     source_id="PL1", title="Garden talks")
    again = store.save_collection(url="https://www.youtube.com/playlist?list=PL1", platform="youtube",
                                  source_id="PL1", title=None)
    assert again.id == playlist.id and again.title == "Garden talks"  # one collection per (site, playlist)
    other = store.save_collection(url="https://vimeo.com/channels/x", platform="vimeo", source_id="x", title="X")
    first, second, alone = new_job(store, "a0000000001"), new_job(store, "b0000000002"), new_job(store, "c0000000003")
    for job in (first, second):
        store.update_job(job.id, collection_id=playlist.id)
    assert store.get_job(first.id).collection_id == playlist.id and store.get_job(alone.id).collection_id is None
    assert {j.id for j in store.list_jobs(collections=[playlist.id])} == {first.id, second.id}
    assert store.list_jobs(collections=[other.id]) == []
    assert [c.id for c in store.get_collections([playlist.id, "missing"])] == [playlist.id]
    assert {c.id for c in store.get_collections()} == {playlist.id, other.id}
    store.delete_job(first.id)
    assert [j.id for j in store.list_jobs(collections=[playlist.id])] == [second.id]


def test_chapters_stay_with_their_job(store):
    job = new_job(store)
    chapters = [Chapter(start=0, end=30, title="Intro", source="creator"),
                Chapter(start=30, end=95.5, title="The “main” part", source="generated", summary="What is said.")]
    store.update_job(job.id, chapters=chapters)
    assert store.get_job(job.id).chapters == chapters and store.get_jobs([job.id])[job.id].chapters == chapters
    store.update_job(job.id, title="Kept")
    assert store.get_job(job.id).chapters == chapters


def test_themes_are_replaced_whole_and_leave_with_their_videos(store):
    first, second, third = (new_job(store, f"vid0000000{n}") for n in range(3))
    for job in (first, second, third):
        store.save_embeddings(job.id, "m", vectors(2, seed=hash(job.id) % 100))
        store.enter_stage(job.id, Stage.COMPLETED)
    job_ids, found = store.video_vectors("m")
    assert sorted(job_ids) == sorted([first.id, second.id, third.id]) and found.shape == (3, 8)
    assert np.allclose(np.linalg.norm(found, axis=1), 1, atol=1e-5)
    themes = [Theme(id="aaaaaaaaaaaa", label="gardens", keywords=["tomato", "soil"], job_ids=[first.id, second.id]),
              Theme(id="bbbbbbbbbbbb", label="Named", named=True, job_ids=[third.id], merged_into="aaaaaaaaaaaa")]
    store.save_themes(themes)
    assert sorted(store.get_themes(), key=lambda t: t.id) == [
        theme.model_copy(update={"job_ids": sorted(theme.job_ids)}) for theme in themes]
    store.delete_job(second.id)
    assert [t.job_ids for t in sorted(store.get_themes(), key=lambda t: t.id)] == [[first.id], [third.id]]
    store.save_themes([])
    assert store.get_themes() == []


def test_a_long_videos_chapters_have_vectors_of_their_own_and_may_be_in_several_themes(store):
    long_talk, short = new_job(store, "vid00000010"), new_job(store, "vid00000011")
    said = vectors(5, seed=4)
    store.save_embeddings(long_talk.id, "m", said, parts=[(0, 2), (2, 2), (2, 5)])  # the middle chapter too short
    store.save_embeddings(short.id, "m", vectors(2, seed=5))
    assert store.part_vectors("m")[0] == []  # only completed videos
    for job in (long_talk, short):
        store.enter_stage(job.id, Stage.COMPLETED)
    keys, found = store.part_vectors("m")
    assert keys == [(long_talk.id, 0), (long_talk.id, 2)]
    assert np.allclose(found, normalise_rows(np.vstack([said[:2].mean(axis=0), said[2:].mean(axis=0)])), atol=1e-5)
    # the parts are neither segments nor the video: search and the video's own vector are as before
    assert sorted(store.video_vectors("m")[0]) == sorted([long_talk.id, short.id])
    hits = store.search_segments(said[0], [], "m", 20, SearchFilters())
    assert sorted((job_id, index) for job_id, index, *_ in hits if job_id == long_talk.id) == [
        (long_talk.id, n) for n in range(5)]
    themes = [Theme(id="aaaaaaaaaaaa", label="gardens", job_ids=[long_talk.id, short.id]),
              Theme(id="bbbbbbbbbbbb", label="football", job_ids=[long_talk.id])]
    store.save_themes(themes)
    assert {t.id: t.job_ids for t in store.get_themes()} == {"aaaaaaaaaaaa": sorted([long_talk.id, short.id]),
                                                           "bbbbbbbbbbbb": [long_talk.id]}
    store.save_embeddings(long_talk.id, "m", said)  # embedded again without chapters
    assert store.part_vectors("m")[0] == []


def test_the_dashboards_numbers_are_counted_by_the_store(store):
    rows = [("a0000000001", "youtube", "2026-10-02", "en-US", "food", "positive", 0.6, ["Tomato", "garden"]),
            ("a0000000002", "vimeo", "2026-11-20", "es", "food", "negative", -0.4, ["tomato"]),
            ("a0000000003", "youtube", None, "en", "sports", "neutral", 0.1, ["goal"])]
    ids = []
    for video_id, platform, uploaded, language, category, label, score, topics in rows:
        job = new_job(store, video_id, platform=platform)
        store.update_job(job.id, upload_date=uploaded, duration=60.0)
        store.save_analysis(job.id, Analysis(summary="", topics=topics, category=category, language=language,
                                             sentiment=Sentiment(label=label, score=score), engine="test"))
        store.enter_stage(job.id, Stage.COMPLETED)
        ids.append(job.id)
    unfinished = new_job(store, "a0000000004")  # not completed: not counted
    store.save_analysis(unfinished.id, ANALYSIS)
    store.save_themes([Theme(id="aaaaaaaaaaaa", label="food", job_ids=ids[:2]),
                       Theme(id="bbbbbbbbbbbb", label="garden", job_ids=ids[:1])])

    everything = store.library_summary(LibraryQuery(), top_topics=2, trend_topics=1)
    assert (everything.videos, everything.seconds, sorted(everything.job_ids)) == (3, 180.0, sorted(ids))
    assert everything.score == pytest.approx(0.1)

    def tallies(column):
        return {t.value: (t.videos, round(t.score, 2)) for t in everything.by[column]}

    assert tallies("language") == {"en": (2, 0.35), "es": (1, -0.4)}
    assert tallies("category") == {"food": (2, 0.1), "sports": (1, 0.1)}
    assert tallies("sentiment") == {"positive": (1, 0.6), "negative": (1, -0.4), "neutral": (1, 0.1)}
    assert tallies("theme") == {"aaaaaaaaaaaa": (2, 0.1), "bbbbbbbbbbbb": (1, 0.6), "": (1, 0.1)}
    assert sum(t.videos for t in everything.by["processed_day"]) == 3
    assert [(t.value, t.videos) for t in everything.topics] == [("tomato", 2), ("garden", 1)]
    assert [(t.value, t.month, t.videos) for t in everything.topic_months] == [
        ("tomato", "2026-10", 1), ("tomato", "2026-11", 1)]
    assert [(t.value, t.month) for t in everything.theme_months] == [
        ("aaaaaaaaaaaa", "2026-10"), ("aaaaaaaaaaaa", "2026-11"), ("bbbbbbbbbbbb", "2026-10")]

    narrowed = store.library_summary(LibraryQuery(languages=["en"], platforms=["youtube"], date_from="2026-10-01",
                                                  date_to="2026-10-31"))
    assert narrowed.job_ids == [ids[0]] and narrowed.by["theme"][0].value in {"aaaaaaaaaaaa", "bbbbbbbbbbbb"}
    assert store.library_summary(LibraryQuery(job_ids=[ids[2]], categories=["sports"])).videos == 1
    assert store.library_summary(LibraryQuery(collections=["nothing"])).videos == 0


def test_follows_are_kept_whole_and_removed(store):
    followed = Follow(id="f0000000000a", url="https://www.youtube.com/@someone", platform="youtube", title="Someone",
                      every_seconds=3600, created_at="2026-12-05T10:00:00.000+00:00",
                      next_check_at="2026-12-05T11:00:00.000+00:00", seen=["https://youtu.be/a", "https://youtu.be/b"])
    store.save_follow(followed)
    later = followed.model_copy(update={"videos_added": 2, "last_error": "rate limited", "failures": 1})
    store.save_follow(later)
    assert store.get_follows() == [later] and store.get_follows(["f0000000000a"]) == [later]
    assert store.get_follows(["nope"]) == []
    store.delete_follow(later.id)
    assert store.get_follows() == []


def test_corrections_are_numbered_refused_when_stale_and_forgotten_on_reset(store):
    job = new_job(store)
    change = SegmentChange(index=0, before="Hello there.", after="Hello their.")
    first = Edit(revision=1, at="2026-12-05T10:00:00.000+00:00", kind="edit", changes=[change])
    assert store.add_edit(job.id, first, 0)
    assert not store.add_edit(job.id, first, 0)  # made from revision 0 too: someone else's came first
    back = Edit(revision=2, at="2026-12-05T10:01:00.000+00:00", kind="undo", undoes=1, by="key 1234abcd",
                changes=[SegmentChange(index=0, before="Hello their.", after="Hello there.")])
    assert store.add_edit(job.id, back, 1)
    assert [(e.revision, e.kind, e.undone) for e in store.get_edits(job.id)] == [(1, "edit", True), (2, "undo", False)]
    assert store.get_edits(job.id)[1] == back
    store.reset_job(job.id)
    assert store.get_edits(job.id) == []


def test_the_platforms_of_the_library_are_listed_once_each(store):
    new_job(store, "vid00000001", "youtube")
    new_job(store, "vid00000002", "vimeo")
    new_job(store, "vid00000003", "youtube")
    assert store.platforms() == ["vimeo", "youtube"]


def test_speakers_stay_with_their_segments_and_are_named_in_place(store):
    job = new_job(store)
    voice = [0.5, -0.25] + [0.0] * 254
    store.save_transcript(job.id, Transcript(
        text="Hello there. Hi.", language="en", engine="test", diarized=True,
        speakers=[Speaker(id="S1", seconds=1.5, voice=voice), Speaker(id="S2", seconds=0.5, voice=voice)],
        speakers_note=None, segments=[Segment(start=0, end=1.5, text="Hello there.", speaker="S1"),
                                      Segment(start=1.6, end=2.1, text="Hi.", speaker="S2")]))
    found = store.get_transcript(job.id)
    assert found.diarized and [s.speaker for s in found.segments] == ["S1", "S2"]
    assert [(s.id, s.seconds, s.voice[:2]) for s in found.speakers] == [("S1", 1.5, [0.5, -0.25]),
                                                                         ("S2", 0.5, [0.5, -0.25])]
    assert store.get_segments([(job.id, 1)])[(job.id, 1)].speaker == "S2"
    store.save_speakers(job.id, [found.speakers[0].model_copy(update={"name": "Ada"}), found.speakers[1]])
    again = store.get_transcript(job.id)
    assert [s.name for s in again.speakers] == ["Ada", None] and [s.speaker for s in again.segments] == ["S1", "S2"]
    one_voice = new_job(store, "vid00000002")
    store.save_transcript(one_voice.id, Transcript(
        text="x", engine="test", segments=[Segment(start=0, end=1, text="x")], diarized=True,
        speakers_note="Speakers could not be told apart."))
    plain = store.get_transcript(one_voice.id)
    assert plain.diarized and plain.speakers == [] and plain.speakers_note == "Speakers could not be told apart."


def test_search_keeps_to_what_a_person_said_and_says_who_said_it(store):
    stored = vectors(4, seed=11)
    ids = []
    for n, (first, second) in enumerate([("Ada", "Grace"), ("Grace", None)]):
        job = new_job(store, f"spk00000{n}")
        speakers = [Speaker(id="S1", name=first, seconds=1.0), Speaker(id="S2", name=second, seconds=1.0)]
        store.save_transcript(job.id, Transcript(text="x", language="en", engine="t", diarized=True, speakers=speakers,
                                                 segments=[Segment(start=0, end=1, text="Engines compute tables",
                                                                   speaker="S1"),
                                                           Segment(start=1, end=2, text="Engines weave patterns",
                                                                   speaker="S2")]))
        store.save_analysis(job.id, ANALYSIS)
        store.save_embeddings(job.id, "m", stored[2 * n:2 * n + 2])
        store.enter_stage(job.id, Stage.COMPLETED)
        ids.append(job.id)

    def found(terms=(), query=stored[1], **filters):
        return {(job_id, idx) for job_id, idx, _, _ in
                store.search_segments(query, list(terms), "m", 10, SearchFilters(**filters))}

    assert found(speakers=["grace"]) == {(ids[0], 1), (ids[1], 0)}  # any case; the unnamed S2 is nobody's
    assert found(["engines"], speakers=["Ada"]) == {(ids[0], 0)}
    assert found(["patterns"], speakers=["ADA", "Nobody"]) == {(ids[0], 0)}  # by meaning only: Ada never said it
    assert found(speakers=["Grace"], job_ids=[ids[1]]) == {(ids[1], 0)}
    assert found(speakers=["Nobody"]) == set()
    segments = store.get_segments([(ids[0], 1), (ids[1], 1)])
    assert (segments[(ids[0], 1)].speaker, segments[(ids[0], 1)].speaker_name) == ("S2", "Grace")
    assert (segments[(ids[1], 1)].speaker, segments[(ids[1], 1)].speaker_name) == ("S2", None)


def test_voice_prints_are_kept_per_speaker_forgotten_by_name_and_leave_with_their_video(store):
    first, second = new_job(store, "voice0000001"), new_job(store, "voice0000002")
    voice = [0.1] * 256
    store.save_voice_sample(VoiceSample(job_id=first.id, speaker="S1", name="Ada", seconds=3.0, voice=voice))
    store.save_voice_sample(VoiceSample(job_id=first.id, speaker="S1", name="Ada L", seconds=4.0, voice=voice))
    store.save_voice_sample(VoiceSample(job_id=second.id, speaker="S2", name="ada l", seconds=2.0, voice=voice))
    store.save_voice_sample(VoiceSample(job_id=second.id, speaker="S1", name="Grace", seconds=1.0, voice=voice))
    kept = store.get_voice_samples()
    assert sorted((s.job_id, s.speaker, s.name, s.seconds) for s in kept) == sorted([
        (first.id, "S1", "Ada L", 4.0), (second.id, "S2", "ada l", 2.0), (second.id, "S1", "Grace", 1.0)])
    assert all(s.voice == voice for s in kept)
    assert [(s.voice, s.has_voice) for s in store.get_voice_samples(with_voices=False)] == [([], True)] * 3
    store.remove_voice_sample(second.id, "S1")
    assert store.forget_voice("ADA  l") == 2 and store.forget_voice("Ada L") == 0
    # who spoke how long stays; the prints are gone
    assert sorted((s.name, s.seconds, s.voice, s.has_voice) for s in store.get_voice_samples()) == [
        ("Ada L", 4.0, [], False), ("ada l", 2.0, [], False)]
    assert [s.has_voice for s in store.get_voice_samples(with_voices=False)] == [False, False]
    store.delete_job(second.id)
    store.delete_job(first.id)
    assert store.get_voice_samples() == []


def test_what_the_library_asks_of_hosted_engines_is_kept_apart_from_jobs(store):
    assert store.library_costs() == {}
    store.add_library_usage(Usage(stage="ask", engine="openai", model="gpt-4.1-mini", input_tokens=1000,
                                  output_tokens=100, cost_usd=0.0006))
    store.add_library_usage(Usage(stage="ask", engine="openai", model="gpt-4.1-mini", input_tokens=10,
                                  output_tokens=5, cost_usd=0.0001))
    store.add_library_usage(Usage(stage="ask", engine="openai", model="local-llama", input_tokens=10))  # no price
    found = store.library_costs()
    assert set(found) == {"ask"} and found["ask"]["calls"] == 2
    assert found["ask"]["usd"] == pytest.approx(0.0007)
    assert store.costs() == {}
