"""Find moments by meaning across the whole library."""

import streamlit as st

from core import api
from core.formatting import clock, highlight, literal
from pages.components import VIDEO_PAGE, library_filters, page_start

page_start("🔎 Search")
query = st.text_input("Search the library by meaning", placeholder="e.g. how to bake a cake")
filters, _ = library_filters("filters", "Filters")
limit = st.slider("Results", 5, 50, 10)

if query:
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
