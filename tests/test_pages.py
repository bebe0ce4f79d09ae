"""The Streamlit pages, driven by AppTest against a real library, queue and worker."""

import time

import pytest
from streamlit.testing.v1 import AppTest

from core import api
from core.formatting import literal
from core.library import insights
from tests.conftest import HOSTILE_TITLE, ROOT, transcript_rows

APP = str(ROOT / "streamlit_app.py")


def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "title", "subheader", "info", "error", "success", "warning")
             for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def test_empty_library_has_a_friendly_start(empty_library):
    at = app().run()
    assert not at.exception
    assert at.text_area[0].label == "Video links"
    at.switch_page("pages/library.py").run()
    assert not at.exception
    assert "library is empty" in texts(at)


def test_invalid_links_show_an_error_and_queue_nothing(empty_library):
    at = app().run()
    at.text_area[0].input("not a link\nftp://example.com/video.mp4")
    at.button[0].click().run()
    assert not at.exception
    message = "\n".join(e.value for e in at.error)
    assert "Nothing was queued" in message and "not a link" in message and "ftp://" in message
    assert api.list_jobs() == []


def test_dead_queue_is_reported(empty_library, media_server):
    at = app().run()
    at.text_area[0].input(f"{media_server}/cooking.mp4")
    at.button[0].click().run()
    assert "cannot be reached" in "\n".join(e.value for e in at.error)


def test_submit_shows_live_status_until_completed(library, media_server, monkeypatch):
    library.use_here(monkeypatch)
    at = app().run()
    at.text_area[0].input(f"{media_server}/football.mp4")
    at.button[0].click().run()
    assert not at.exception
    [job] = [j for j in api.list_jobs() if j.url.endswith("football.mp4")]
    deadline = time.monotonic() + 300
    while "Completed" not in "\n".join(e.value for e in at.success) and time.monotonic() < deadline:
        time.sleep(1)
        at.run()  # in a browser the fragment reruns by itself every 2 s
    assert "Completed" in "\n".join(e.value for e in at.success)
    assert "football" in texts(at)
    assert api.get_job(job.id).status.value == "completed"


@pytest.fixture
def completed_job(library, media_server, monkeypatch):
    library.use_here(monkeypatch)
    submission = api.submit(f"{media_server}/cooking.mp4")
    [job] = api.wait([submission.job.id], timeout=300)
    assert job.status.value == "completed", job.error
    return job


def test_library_lists_and_filters(completed_job, library, media_server):
    failed = api.submit(f"{media_server}/article.html")
    api.wait([failed.job.id], timeout=120)
    at = app()
    at.switch_page("pages/library.py").run()
    assert not at.exception
    page = texts(at)
    assert "cooking" in page and "Failed while downloading" in "\n".join(e.value for e in at.error)
    assert any(b.label == "Retry" for b in at.button)
    at.multiselect[0].select("completed").run()
    assert "Failed while" not in "\n".join(e.value for e in at.error)


def test_video_page_shows_transcript_and_analysis(completed_job):
    at = app()
    at.query_params["job"] = completed_job.id
    at.switch_page("pages/video.py").run()
    assert not at.exception
    rows = transcript_rows(at)
    assert any("chocolate cake" in row["text"].lower() for row in rows)
    assert rows[0]["clock"] == "0:00" and all(row["link"] is None for row in rows)  # times play the audio here
    at.session_state["tab"] = "🧠 Analysis"  # what clicking the tab does
    at.run()
    assert any(m.label == "Sentiment" and m.value == "Positive" for m in at.metric)
    assert any(m.label == "Category" and m.value == "Food" for m in at.metric)


def test_video_page_for_unknown_job(empty_library):
    at = app()
    at.query_params["job"] = "nope"
    at.switch_page("pages/video.py").run()
    assert "No such video" in texts(at)


def test_search_page_finds_the_moment(completed_job):
    at = app()
    at.switch_page("pages/search.py").run()
    at.text_input[0].input("baking a dessert").run()
    assert not at.exception
    assert "chocolate cake" in texts(at).lower()


def test_dashboard_empty_state(empty_library):
    at = app()
    at.switch_page("pages/dashboard.py").run()
    assert not at.exception
    assert "No analysed videos yet" in texts(at)


@pytest.fixture
def many_videos(empty_library):
    from core.config import get_settings
    from core.providers.embed import get_embedder
    from core.store import get_store
    from testkit.library import add_video

    store, embedder = get_store(), get_embedder(get_settings())
    subjects = [("youtube", "food", "positive", "2026-01-10", ["We bake bread.", "The crust is golden."]),
                ("vimeo", "sports", "negative", "2026-02-11", ["The team lost again.", "Fans booed."]),
                ("tiktok", "food", "neutral", "2026-02-20", ["A quick salad recipe.", "Add olive oil."]),
                ("youtube", "technology", "positive", "2026-03-05", ["This phone is great.", "Battery lasts."])]
    ids = []
    for number, (platform, category, sentiment, day, sentences) in enumerate(subjects):
        ids.append(add_video(store, embedder, video_id=f"dash{number:07d}", title=f"Video {number}",
                             sentences=sentences, platform=platform, category=category, sentiment=sentiment,
                             upload_date=day))
        changed = {"topics": ["bread", "phone"], "segment_sentiment": [0.4, -0.3]}
        store.save_analysis(ids[-1], store.get_analysis(ids[-1]).model_copy(update=changed))
    ids.append(add_video(store, embedder, video_id="dash0000004", title="Mercado", platform="youtube",
                         sentences=["El mercado abre temprano.", "Las frutas son frescas."], language="es",
                         translation=["The market opens early.", "The fruit is fresh."], category="food",
                         sentiment="positive", upload_date="2026-03-09"))
    return ids


def test_dashboard_draws_every_chart_and_filters_together(many_videos):
    at = app()
    at.switch_page("pages/dashboard.py").run()
    assert not at.exception
    def charts():
        return {chart.key for chart in at.get("plotly_chart")}

    assert charts() == {"sentiment-distribution", "processed-per-day"}  # only the open tab's are drawn
    assert next(m for m in at.metric if m.label == "Videos").value == "5"
    at.multiselect[1].select("food").run()  # category filter
    assert next(m for m in at.metric if m.label == "Videos").value == "3"
    drawn = charts()
    at.session_state["dashboard-tab"] = "🔀 Breakdown"  # what clicking the tab does
    at.run()
    [by] = at.get("button_group")
    for column in ("category", "platform", "language"):
        by.set_value(column).run()
        assert not at.exception and charts() == {f"{column}-share", f"sentiment-{column}"}
        drawn |= charts()
    at.session_state["dashboard-tab"] = "🏷️ Topics"
    at.run()
    drawn |= charts()
    assert len(drawn) == 10  # every chart, still filtered
    assert next(m for m in at.metric if m.label == "Videos").value == "3"
    assert at.multiselect[2].label == "Spoken language" and at.multiselect[2].options == ["en", "es"]
    at.multiselect[2].select("es").run()  # and the spoken language
    assert next(m for m in at.metric if m.label == "Videos").value == "1"


def test_dashboard_figures_count_the_library(many_videos):
    overview = api.library_overview()  # counted by the store
    assert list(insights.sentiment_distribution(overview).data[0].y) == [3, 1, 1]  # positive, neutral, negative
    bars, _dots = insights.sentiment_by(overview, "platform").data
    assert sorted(bars.y) == ["tiktok", "vimeo", "youtube"] and list(bars.x) == [0.0, 0.0, 0.0]
    languages = insights.share_by(overview, "language", "Spoken languages").data[0]
    assert dict(zip(languages.labels, languages.values, strict=True)) == {"en": 4, "es": 1}
    assert {line.name: list(line.y) for line in insights.topic_trend(overview).data} == {
        "bread": [1, 2, 1], "phone": [1, 2, 1]}  # Jan, Feb, Mar
    [topics] = insights.topic_frequency(overview).data
    assert list(topics.x) == [4, 4]


def test_translated_video_side_by_side_switchable_exported_and_found(many_videos):
    at = app()
    at.query_params["job"] = many_videos[-1]
    at.switch_page("pages/video.py").run()
    assert not at.exception
    assert len(at.get("download_button")) == 10  # every format, original and translation

    def shown():
        return "\n".join(m.value for m in at.markdown)

    def lines():
        return [(row["text"], row["translation"]) for row in transcript_rows(at)]

    # Lines are drawn as text, never as Markdown: what was said shows exactly as said.
    assert ("El mercado abre temprano.", "The market opens early.") in lines()  # side by side
    view = at.get("button_group")[0]
    assert view.options[1:] == ["Original (ES)", "Translation (EN)"]
    view.set_value("Translation (EN)").run()
    assert "The market opens early." in [text for text, _ in lines()]
    assert "El mercado abre temprano." not in [text for text, _ in lines()]
    at.text_input[0].input("frutas").run()  # found by the original's words while the translation shows
    assert [text for text, _ in lines()] == ["The fruit is fresh."]

    at = app()
    at.switch_page("pages/search.py").run()
    at.text_input[0].input("fresh fruit").run()
    assert not at.exception
    assert "matched in EN" in shown() and "Las frutas son frescas" in shown()


def test_video_page_exports_timeline_and_find(many_videos):
    at = app()
    at.query_params["job"] = many_videos[0]
    at.switch_page("pages/video.py").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 0  # the Analysis tab is built when opened
    assert len(at.get("download_button")) == 5
    assert len(transcript_rows(at)) == 2
    at.text_input[0].input("crust").run()
    [line] = transcript_rows(at)
    assert "The crust is golden" in line["text"] and line["mood"] == "red"  # the segment's sentiment colour

    at = app()  # a link straight to the analysis
    at.query_params.update({"job": many_videos[0], "tab": "🧠 Analysis"})
    at.switch_page("pages/video.py").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 2  # sentiment gauge and timeline
    assert any(m.label == "Category" and m.value == "Food" for m in at.metric)
    assert not transcript_rows(at)  # the transcript tab is not built meanwhile


def test_export_formats(many_videos):
    name, srt = api.export(many_videos[0], "srt")
    assert name == "Video-0.srt"
    assert srt.startswith("1\n00:00:00,000 --> 00:00:04,500\nWe bake bread.\n")
    _, vtt = api.export(many_videos[0], "vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:04.500\nWe bake bread.")
    _, md = api.export(many_videos[0], "md")
    assert "## Transcript" in md and "**[0:05]** The crust is golden." in md
    name, md = api.export(many_videos[-1], "md", translated=True)
    assert name == "Mercado.en.md" and "## Translation (en)" in md and "**[0:05]** The fruit is fresh." in md


def test_library_delete_asks_first(many_videos):
    at = app()
    at.switch_page("pages/library.py").run()
    next(b for b in at.button if b.label == "Delete").click().run()
    assert not at.exception
    assert len(api.list_jobs()) == len(many_videos)  # nothing removed until confirmed (the browser test confirms)
    assert any(b.label == "Delete for good" for b in at.button)


def test_library_pages_through_a_large_library(empty_library):
    from core.store import get_store

    store = get_store()
    for number in range(45):
        store.create_job(url=f"https://example.com/{number}.mp4", platform="generic", extractor="Generic",
                         video_id=f"v{number:03d}")
    at = app()
    at.switch_page("pages/library.py").run()
    assert not at.exception
    assert "1–20 of 45 videos" in texts(at)
    at.number_input[0].set_value(3).run()
    assert "41–45 of 45 videos" in texts(at)


def test_failed_video_page_offers_retry(library, media_server, monkeypatch):
    library.use_here(monkeypatch)
    failed = api.submit(f"{media_server}/article.html?page=retry")
    [job] = api.wait([failed.job.id], timeout=120)
    assert job.status.value == "failed"
    at = app()
    at.query_params["job"] = job.id
    at.switch_page("pages/video.py").run()
    assert "No video was found" in "\n".join(e.value for e in at.error)
    next(b for b in at.button if b.label == "Retry").click().run()
    assert not at.exception
    [again] = api.wait([job.id], timeout=120)
    assert again.status.value == "failed"
    assert again.stage_times["downloading"] > job.stage_times["downloading"]  # it ran again


def test_a_hostile_title_is_escaped_on_every_page(library, media_server, monkeypatch):
    library.use_here(monkeypatch)
    [job] = api.wait([api.submit(f"{media_server}/hostile.html").job.id], timeout=300)
    assert job.status.value == "completed", job.error
    assert job.title.startswith(HOSTILE_TITLE)  # the generic extractor numbers the page's videos
    escaped = literal(HOSTILE_TITLE)
    assert "\\*\\*x\\*\\*" in escaped and "\\<img" in escaped and "\\](javascript" not in escaped
    for page, params in (("pages/library.py", {}), ("pages/video.py", {"job": job.id})):
        at = app()
        for key, value in params.items():
            at.query_params[key] = value
        at.switch_page(page).run()
        assert not at.exception
        shown = [e.value for kind in ("markdown", "title") for e in getattr(at, kind) if "img" in str(e.value)]
        assert shown and all(escaped in value for value in shown), shown
    hits = api.search("chocolate cake with strawberries", limit=20)
    assert any(h.job_id == job.id for h in hits)
    at = app()
    at.switch_page("pages/search.py").run()
    at.text_input[0].input("chocolate cake with strawberries").run()
    assert not at.exception
    assert any(escaped in str(e.value) for e in at.markdown)


def test_a_long_transcript_is_paged_opens_at_the_moment_and_finds_in_all_of_it(empty_library):
    from core.config import get_settings
    from core.providers.embed import get_embedder
    from core.store import get_store
    from testkit.library import add_video

    sentences = [f"Line number {n} of the long talk." for n in range(250)]
    sentences[240] = "Here the speaker finally mentions the zeppelin."
    job_id = add_video(get_store(), get_embedder(get_settings()), video_id="long0000001", title="Long talk",
                       sentences=sentences)

    def lines(at):
        return [row["text"] for row in transcript_rows(at)]

    at = app()
    at.query_params["job"] = job_id
    at.query_params["t"] = str(int(150 * 5.0))  # a search hit's moment: segment 150, on the second page
    at.switch_page("pages/video.py").run()
    assert not at.exception
    size = insights.TRANSCRIPT_PAGE_SIZE
    [page] = at.number_input
    assert (page.value, page.max) == (150 // size + 1, -(-250 // size))
    assert len(lines(at)) == size and "Line number 150 " in "\n".join(lines(at))
    page.set_value(page.max).run()
    assert len(lines(at)) == 250 - (page.max - 1) * size
    at.text_input[0].input("zeppelin").run()
    assert [line for line in lines(at) if "zeppelin" in line] and len(lines(at)) == 1
