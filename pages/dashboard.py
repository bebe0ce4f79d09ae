"""The whole library at a glance: sentiment, topics, categories, platforms, activity."""

import streamlit as st

from core import api
from core.formatting import clock
from core.library import insights
from core.models import CATEGORIES, LibraryQuery
from pages.components import page_start, theme_editor

page_start("📊 Dashboard")

# Counted by the store, filtered there too: a few rows per chart, however large the library.
everything = api.library_overview()
themes = api.themes()
if everything.empty:
    st.info("No analysed videos yet. Once a video completes, its sentiment, topics and category show up here.",
            icon="👋")
    st.page_link("pages/submit.py", label="Submit a video", icon="➕")
    st.stop()

left, middle, language_column, collection_column, theme_column, right = st.columns(6)
platforms = left.multiselect("Platform", sorted(t.value for t in everything.tallies("platform")),
                             placeholder="All platforms")
categories = middle.multiselect("Category", sorted(CATEGORIES), placeholder="All categories")
languages = language_column.multiselect("Spoken language", sorted(t.value for t in everything.tallies("language")),
                                        placeholder="All languages")
known_collections = {collection.id: collection for collection in api.collections()}
collections = collection_column.multiselect(
    "Collection", list(known_collections), placeholder="All collections",
    format_func=lambda cid: known_collections[cid].title or known_collections[cid].url)
labels = {view.id: view.label for view in themes}
theme_ids = theme_column.multiselect("Theme", list(labels), format_func=labels.get, placeholder="All themes",
                                    key="dashboard-themes")
dates = right.date_input("Upload date", value=())
date_from, date_to = (dates[0].isoformat(), dates[-1].isoformat()) if dates else (None, None)

query = LibraryQuery(platforms=platforms, categories=categories, languages=languages, collections=collections,
                     date_from=date_from, date_to=date_to)
overview = everything if query == LibraryQuery() and not theme_ids else api.library_overview(query, theme_ids)
if overview.empty:
    st.warning("No videos match these filters.")
    st.stop()

costs = api.costs()
library_costs = api.library_costs()
asked, naming = library_costs.get("ask", {}), library_costs.get("themes", {})
spent = sum(costs.get(job_id, 0.0) for job_id in overview.job_ids)
library_spent = asked.get("usd", 0.0) + naming.get("usd", 0.0)
cols = st.columns(5 if spent or library_spent else 4)
cols[0].metric("Videos", overview.summary.videos)
cols[1].metric("Time processed", clock(overview.hours * 3600))
cols[2].metric("Average sentiment", f"{overview.summary.score:+.2f}")
cols[3].metric("Themes", sum(1 for tally in overview.tallies("theme") if tally.value != insights.NO_THEME),
               help="the videos grouped by what they are about; a worker groups them again as videos complete")
if spent or library_spent:
    questions = f"; answers to {asked['calls']} questions: ${asked['usd']:.4f}" if asked else ""
    names = f"; naming themes: ${naming['usd']:.4f}" if naming else ""
    cols[4].metric("Hosted cost", f"${spent + library_spent:.2f}",
                   help=f"estimated from core/pricing.py: the videos shown ${spent:.4f}{questions}{names}")

# Only the open tab's charts are built and drawn (a browser draws each plotly chart even while it is hidden),
# and no view draws more than two: each takes a browser about 0.2 s.
overview_tab, breakdown_tab, topics_tab, people_tab = st.tabs(
    ["😊 Overview", "🔀 Breakdown", "🏷️ Topics", "🗣️ People"], key="dashboard-tab", bind="query-params")
if overview_tab.open:
    with overview_tab:
        a, b = st.columns(2)
        a.plotly_chart(insights.sentiment_distribution(overview), key="sentiment-distribution")
        b.plotly_chart(insights.processed_per_day(overview), key="processed-per-day")
if breakdown_tab.open:
    with breakdown_tab:
        breakdowns = {"category": "Category", "platform": "Platform", "language": "Spoken language"}
        column = st.segmented_control("Break the videos down by", list(breakdowns), format_func=breakdowns.get,
                                      default="category", required=True, key="breakdown", bind="query-params")
        a, b = st.columns(2)
        a.plotly_chart(insights.share_by(overview, column, f"Videos by {breakdowns[column].lower()}"),
                       key=f"{column}-share")
        b.plotly_chart(insights.sentiment_by(overview, column), key=f"sentiment-{column}")
if topics_tab.open:
    with topics_tab:
        views = {"themes": "Themes across the library", "sentiment": "Sentiment by theme",
                 "phrases": "Topics of single videos"}
        view = st.segmented_control("Show", list(views), format_func=views.get, default="themes", required=True,
                                    key="topics-view", bind="query-params")
        a, b = st.columns(2)
        if view == "themes":
            a.plotly_chart(insights.theme_sizes(overview), key="theme-sizes")
            b.plotly_chart(insights.theme_trend(overview), key="theme-trend")
        elif view == "sentiment":
            a.plotly_chart(insights.sentiment_by(overview, "theme"), key="sentiment-theme")
            b.plotly_chart(insights.share_by(overview, "theme", "Videos by theme"), key="theme-share")
        else:
            top = a.slider("Phrases to show", 5, 40, 15)
            a.plotly_chart(insights.topic_frequency(overview, top), key="topic-frequency")
            b.plotly_chart(insights.topic_trend(overview), key="topic-trend")
        if themes:
            with st.expander("Rename or merge themes"):
                theme_editor(themes)
if people_tab.open:
    with people_tab:
        people = api.people(overview.job_ids)
        a, b = st.columns(2)
        a.plotly_chart(insights.talk_time(people), key="talk-time")
        if people:
            b.dataframe([{"Person": person.name, "Videos": person.videos, "Talk time": clock(person.seconds),
                          "Voice recognised": person.recognised} for person in people], hide_index=True)
