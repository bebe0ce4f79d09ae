"""Find moments by meaning across the whole library."""

import streamlit as st

from core import api
from core.formatting import clock
from pages.components import VIDEO_PAGE

st.title("🔎 Search")
query = st.text_input("Search the library by meaning", placeholder="e.g. how to bake a cake")
limit = st.slider("Results", 5, 50, 10)
if query:
    hits = api.search(query, limit=limit)
    if not hits:
        st.info("Nothing found. Completed videos become searchable as soon as they finish.")
    for hit in hits:
        with st.container(border=True):
            thumb, body = st.columns([1, 5], vertical_alignment="center")
            image = api.media_file(hit.thumbnail_path)
            if image:
                thumb.image(str(image), width="stretch")
            body.markdown(f"**{hit.title or hit.video_id}** · {clock(hit.start)} · score {hit.score:.2f}")
            body.write(hit.text)
            body.page_link(VIDEO_PAGE, label="Open", icon="🎬", query_params={"job": hit.job_id})
