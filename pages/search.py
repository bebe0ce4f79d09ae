"""Find moments by meaning across the whole library."""

import streamlit as st

from core import api
from core.formatting import clock, highlight, literal
from core.models import CATEGORIES, SearchFilters
from pages.components import VIDEO_PAGE, page_start

page_start("🔎 Search")
query = st.text_input("Search the library by meaning", placeholder="e.g. how to bake a cake")
with st.expander("Filters"):
    left, middle, right = st.columns(3)
    platforms = left.multiselect("Platform", api.platforms_in_library())
    categories = middle.multiselect("Category", sorted(CATEGORIES))
    sentiments = right.multiselect("Sentiment", ["positive", "neutral", "negative"])
    start, end, theme_column = st.columns(3)
    date_from = start.date_input("Uploaded from", value=None)
    date_to = end.date_input("Uploaded until", value=None)
    labels = {view.id: view.label for view in api.themes()}
    themes = theme_column.multiselect("Theme", list(labels), format_func=labels.get)
    speaker_column, limit_column = st.columns([2, 1])
    speakers = speaker_column.multiselect("Said by", [person.name for person in api.people()],
                                          placeholder="anyone", help="only what these people said")
    limit = limit_column.slider("Results", 5, 50, 10)

if query:
    filters = SearchFilters(platforms=platforms, categories=categories, sentiments=sentiments, themes=themes,
                            speakers=speakers,
                            date_from=date_from.isoformat() if date_from else None,
                            date_to=date_to.isoformat() if date_to else None)
    hits = api.search(query, limit=limit, filters=filters)
    if not hits:
        st.info("Nothing found. Completed videos become searchable as soon as they finish.")
    for hit in hits:
        with st.container(border=True):
            thumb, body = st.columns([1, 5], vertical_alignment="center")
            image = api.media_file(hit.thumbnail_path)
            if image:
                thumb.image(str(image), width="stretch")
            chapter = f" · 📑 {literal(hit.chapter)}" if hit.chapter else ""
            body.markdown(f"**{literal(hit.title or hit.video_id)}**{chapter} · [{clock(hit.start)}]({hit.url}) · "
                          f"match {hit.score:.0%}")
            said_by = f":blue-badge[{literal(hit.speaker)}] " if hit.speaker else ""
            body.markdown(said_by + highlight(hit.text, query))
            if hit.translation is not None:
                body.markdown(f":blue-badge[matched in {(hit.language or '?').upper()}] "
                              f"{highlight(hit.translation, query)}")
            body.page_link(VIDEO_PAGE, label="Open at this moment", icon="▶️",
                           query_params={"job": hit.job_id, "t": str(int(hit.start))})
