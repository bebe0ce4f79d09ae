"""The whole library at a glance: sentiment, topics, categories, platforms, activity."""

import streamlit as st

from core import api, insights
from core.formatting import clock
from core.models import CATEGORIES
from pages.components import page_start

page_start("📊 Dashboard")

videos = api.analysed_videos()  # read once; every filter works on it
everything = insights.library_overview(videos)
if everything.empty:
    st.info("No analysed videos yet. Once a video completes, its sentiment, topics and category show up here.",
            icon="👋")
    st.page_link("pages/submit.py", label="Submit a video", icon="➕")
    st.stop()

left, middle, language_column, collection_column, right = st.columns(5)
platforms = left.multiselect("Platform", sorted(everything.videos["platform"].unique()), placeholder="All platforms")
categories = middle.multiselect("Category", sorted(CATEGORIES), placeholder="All categories")
languages = language_column.multiselect("Spoken language", sorted(everything.videos["language"].unique()),
                                        placeholder="All languages")
known_collections = api.collections_of([job for job, _ in videos])
collections = collection_column.multiselect(
    "Collection", list(known_collections), placeholder="All collections",
    format_func=lambda cid: known_collections[cid].title or known_collections[cid].url)
dates = right.date_input("Upload date", value=())
date_from, date_to = (dates[0].isoformat(), dates[-1].isoformat()) if dates else (None, None)

overview = insights.library_overview(videos, platforms=platforms, categories=categories, date_from=date_from,
                                     date_to=date_to, collections=collections, languages=languages)
if overview.empty:
    st.warning("No videos match these filters.")
    st.stop()

costs = api.costs()
spent = sum(costs.get(job_id, 0.0) for job_id in overview.videos["job_id"])
cols = st.columns(5 if spent else 4)
cols[0].metric("Videos", len(overview.videos))
cols[1].metric("Time processed", clock(overview.hours * 3600))
cols[2].metric("Average sentiment", f"{overview.videos['score'].mean():+.2f}")
cols[3].metric("Distinct topics", overview.topics["topic"].nunique())
if spent:
    cols[4].metric("Hosted cost", f"${spent:.2f}", help="estimated from core/pricing.py")

# Charts are drawn only for the open tab: a browser draws each plotly chart even while it is hidden.
sentiment_tab, topics_tab, library_tab = st.tabs(["😊 Sentiment", "🏷️ Topics", "📚 Library"], key="dashboard-tab",
                                                 bind="query-params")
if sentiment_tab.open:
    with sentiment_tab:
        a, b = st.columns(2)
        a.plotly_chart(insights.sentiment_distribution(overview), key="sentiment-distribution")
        b.plotly_chart(insights.sentiment_by(overview, "category"), key="sentiment-category")
        a.plotly_chart(insights.sentiment_by(overview, "platform"), key="sentiment-platform")
        b.plotly_chart(insights.sentiment_by(overview, "language"), key="sentiment-language")
if topics_tab.open:
    with topics_tab:
        top = st.slider("Topics to show", 5, 40, 15)
        a, b = st.columns(2)
        a.plotly_chart(insights.topic_frequency(overview, top), key="topic-frequency")
        b.plotly_chart(insights.topic_trend(overview), key="topic-trend")
if library_tab.open:
    with library_tab:
        a, b = st.columns(2)
        a.plotly_chart(insights.category_share(overview), key="category-share")
        b.plotly_chart(insights.share_by(overview, "platform", "Platforms"), key="platform-share")
        a.plotly_chart(insights.share_by(overview, "language", "Spoken languages"), key="language-share")
        b.plotly_chart(insights.processed_per_day(overview), key="processed-per-day")
