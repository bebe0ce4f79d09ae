"""Library themes: the videos grouped by what they are about, named from their words, stable as the library grows,
renamed and merged by a person, on every store; found by a real worker after videos complete."""

import json

import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from core import api
from core.config import get_settings
from core.models import Chapter, SearchFilters
from core.providers.embed import get_embedder
from core.server import app as http_app
from core.store import get_store
from testkit.library import add_video
from tests.conftest import ROOT, wait_for

SUBJECTS = {
    "garden": ["Tomatoes need six hours of sunshine in the garden.", "Water the garden plants early in the morning.",
               "Compost makes the garden soil rich for the tomatoes.", "Sow the seeds in the garden beds in spring."],
    "football": ["The striker scored twice and the team won the league match.",
                 "The goalkeeper saved a penalty in the final minute of the match.",
                 "The football fans sang as the team scored a late goal.",
                 "The coach praised the team after the match."],
    "money": ["Shares fell after the bank raised interest rates.", "Investors moved money into bonds as shares fell.",
              "The central bank keeps interest rates high to slow inflation.", "Save money every month in a budget."],
}


def add(store, embedder, subject: str, number: int) -> str:
    said = SUBJECTS[subject]
    job_id = add_video(store, embedder, video_id=f"{subject}{number:05d}", title=f"{subject.title()} talk {number}",
                       sentences=[said[(number + i) % len(said)] for i in range(3)])
    analysis = store.get_analysis(job_id)  # as the pipeline's analysis would summarise a short video
    store.save_analysis(job_id, analysis.model_copy(update={"summary": " ".join(said[:3])}))
    return job_id


def group_subjects() -> dict[str, list[str]]:
    store, embedder = get_store(), get_embedder(get_settings())
    ids = {subject: [add(store, embedder, subject, n) for n in range(3)] for subject in SUBJECTS}
    api.refresh_themes()
    return ids


@pytest.fixture
def grouped(backend):
    """On every store: the embedded one, Postgres, and a Supabase project."""
    return group_subjects()


@pytest.fixture
def grouped_here(empty_library):
    """On the embedded store (the faces above the store are the same on every one)."""
    return group_subjects()


def theme_holding(job_id: str):
    return next(view for view in api.themes() if job_id in view.job_ids)


def test_videos_about_one_subject_share_a_theme_named_from_their_words(grouped):
    found = api.themes()
    assert sorted(sorted(view.job_ids) for view in found) == sorted(sorted(ids) for ids in grouped.values())
    garden = theme_holding(grouped["garden"][0])
    assert "garden" in garden.label or "tomatoes" in garden.label, garden
    assert garden.videos == 3 and len(garden.keywords) >= 3
    assert any(word in theme_holding(grouped["football"][0]).label for word in ("match", "team", "football"))


def test_a_theme_keeps_its_id_and_name_as_videos_join_and_a_person_names_and_merges(grouped):
    garden = theme_holding(grouped["garden"][0])
    api.rename_theme(garden.id, "Growing food")
    store, embedder = get_store(), get_embedder(get_settings())
    newcomer = add(store, embedder, "garden", 7)
    api.refresh_themes()
    again = theme_holding(newcomer)
    assert (again.id, again.label, again.videos) == (garden.id, "Growing food", 4)

    football, money = theme_holding(grouped["football"][0]), theme_holding(grouped["money"][0])
    merged = api.merge_themes(money.id, football.id)
    assert merged.id == football.id and merged.videos == 6
    api.refresh_themes()  # grouped again from the vectors: the merge a person made holds
    assert theme_holding(grouped["money"][1]).id == football.id and len(api.themes()) == 2

    for call, message in ((lambda: api.rename_theme(garden.id, "   "), "cannot be empty"),
                          (lambda: api.rename_theme(football.id, "growing FOOD"), "already called"),
                          (lambda: api.merge_themes(garden.id, garden.id), "with itself")):
        with pytest.raises(api.ThemeRefused, match=message):
            call()
    with pytest.raises(LookupError, match="no theme"):
        api.rename_theme("0123456789ab", "Anything")

    api.delete(grouped["garden"][0])  # a deleted video leaves its theme at once
    assert theme_holding(newcomer).videos == 3


def test_a_long_talk_that_changes_subject_joins_the_theme_of_each_chapter(grouped):
    store, embedder = get_store(), get_embedder(get_settings())
    garden_half, football_half = SUBJECTS["garden"] * 2, SUBJECTS["football"] * 2
    chapters = [Chapter(start=0, end=80, title="Tomatoes and compost", source="generated",
                        summary="Growing tomatoes in the garden."),
                Chapter(start=80, end=160, title="Last night's match", source="generated",
                        summary="The team won the league match.")]
    talk = add_video(store, embedder, video_id="longtalk001", title="Saturday talk", chapters=chapters,
                     sentences=garden_half + football_half, seconds_per_sentence=10.0)
    one_subject = add_video(store, embedder, video_id="longtalk002", title="All about money",
                            sentences=SUBJECTS["money"] * 4, seconds_per_sentence=10.0)
    store.save_embeddings(talk, embedder.model, embedder.embed(garden_half + football_half))  # as before chapters
    api.refresh_themes()  # had their own vectors: the talk is grouped whole, in one theme
    assert len(api.themes_of(talk)) == 1
    assert api.reindex(every=True) == len(api.list_jobs())  # after an upgrade, every video embedded again
    api.refresh_themes()
    garden, football = theme_holding(grouped["garden"][0]), theme_holding(grouped["football"][0])
    assert talk in garden.job_ids and talk in football.job_ids
    assert {view.id for view in api.themes_of(talk)} == {garden.id, football.id}
    assert [view.id for view in api.themes_of(one_subject)] == [theme_holding(grouped["money"][0]).id]
    overview = api.library_overview()
    sizes = {tally.value: tally.videos for tally in overview.tallies("theme")}
    assert sizes[garden.label] == len(garden.job_ids) and sizes[football.label] == len(football.job_ids)
    assert overview.summary.videos == len(api.list_jobs())  # the talk counts once everywhere else
    assert api.library_overview(theme_ids=[garden.id]).job_ids == sorted(garden.job_ids)


def test_with_a_key_the_hosted_model_names_new_themes_and_its_cost_is_kept(empty_library):
    from core.config import Settings
    from core.library import themes as library_themes
    from testkit.fake_openai import FakeOpenAI

    store, embedder = get_store(), get_embedder(get_settings())
    ids = {subject: [add(store, embedder, subject, n) for n in range(3)] for subject in ("garden", "football")}
    fake = FakeOpenAI()
    try:
        settings = Settings(openai_api_key="sk-test-themes-0000000000", openai_base_url=fake.base_url)
        namer = library_themes.hosted_namer(settings)
        library_themes.refresh(store, embedder.model, namer)
        garden = theme_holding(ids["garden"][0])
        assert garden.label == f"All about {garden.keywords[0]}"
        [call] = fake.calls("/v1/chat/completions")
        assert "Garden talk 0" in call["prompt"]  # the videos' titles are shown with the keywords
        assert api.library_costs()["themes"]["calls"] == 1
        api.rename_theme(garden.id, "Growing food")
        add(store, embedder, "money", 1)
        library_themes.refresh(store, embedder.model, namer)  # only the new theme is named
        assert theme_holding(ids["garden"][0]).label == "Growing food"
        assert len(fake.calls("/v1/chat/completions")) == 2
        store.save_themes([])
        fake.fail_next("/v1/chat/completions", 401)  # a model that cannot answer leaves the words naming them
        found = library_themes.refresh(store, embedder.model, namer)
        assert len(found) == 3 and all(theme.label == library_themes.label_of(theme.keywords) for theme in found)
    finally:
        fake.close()
    assert library_themes.hosted_namer(Settings(openai_api_key=None)) is None


def test_search_and_ask_can_be_limited_to_a_theme(grouped_here):
    money = theme_holding(grouped_here["money"][0])
    hits = api.search("the team scored", limit=20, filters=SearchFilters(themes=[money.id]))
    assert hits and {hit.job_id for hit in hits} <= set(grouped_here["money"])
    answer = api.ask("Who scored twice?", filters=SearchFilters(themes=[money.id]))
    assert not answer.supported and "in this theme" in answer.answer
    assert api.ask("Who scored twice?").supported


def test_topics_on_the_command_line_and_over_http(grouped_here, empty_library):
    listed = json.loads(empty_library.cli("topics", "--json").stdout)
    assert len(listed) == 3 and set(listed[0]) == {"id", "label", "keywords", "videos", "job_ids"}
    assert listed[0]["videos"] == len(listed[0]["job_ids"]) == 3

    client = TestClient(http_app)
    assert client.get("/topics").json() == listed
    first, second = listed[0]["id"], listed[1]["id"]
    renamed = client.patch(f"/topics/{first}", json={"label": "Tomatoes and more"})
    assert renamed.status_code == 200 and renamed.json()["label"] == "Tomatoes and more"
    taken = client.patch(f"/topics/{second}", json={"label": "tomatoes and more"})
    assert taken.status_code == 400 and "already called" in taken.json()["error"]
    assert client.post(f"/topics/{first}/merge", json={"into": first}).status_code == 400
    assert client.patch("/topics/0123456789ab", json={"label": "x"}).status_code == 404
    merged = client.post(f"/topics/{second}/merge", json={"into": first})
    assert merged.status_code == 200 and merged.json()["videos"] == 6
    result = empty_library.cli("topics", "--rename", first, "")
    assert result.returncode == 2 and "cannot be empty" in result.stderr


def test_the_dashboard_shows_themes_and_filters_by_them(grouped_here):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    at.switch_page("pages/dashboard.py").run()
    assert next(m for m in at.metric if m.label == "Themes").value == "3"
    at.session_state["dashboard-tab"] = "🏷️ Topics"
    at.run()
    assert not at.exception
    [sizes] = [chart for chart in at.get("plotly_chart") if "Videos per theme" in chart.proto.spec]
    garden = theme_holding(grouped_here["garden"][0])
    [theme_filter] = [box for box in at.multiselect if box.label == "Theme"]
    theme_filter.select(garden.id).run()
    assert next(m for m in at.metric if m.label == "Videos").value == "3"


def test_a_worker_groups_the_library_after_a_video_completes(library, media_server):
    result = library.cli("submit", f"{media_server}/cooking.mp4", "--wait", "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)

    def grouped_with_it():
        listed = json.loads(library.cli("topics", "--json").stdout)
        return any(job["id"] in theme["job_ids"] for theme in listed)

    wait_for(grouped_with_it, timeout=120, what="the worker to group the library")
