"""Ask the library: answers that cite the moments they come from."""

import streamlit as st

from core import api
from core.models import CATEGORIES, SearchFilters
from pages.components import conversation, page_start

page_start("💬 Ask the library")
st.caption("Every answer cites the moments it comes from; when the library does not say, the answer says so. "
           "Follow-up questions are read with the ones before.")
with st.expander("Ask only some videos"):
    left, middle, right = st.columns(3)
    collection = left.selectbox("Collection", api.collections(), index=None, placeholder="every collection",
                                format_func=lambda chosen: chosen.title or chosen.url)
    platforms = middle.multiselect("Platform", api.platforms_in_library())
    categories = right.multiselect("Category", sorted(CATEGORIES))
    start, end, theme_column, size = st.columns(4)
    date_from = start.date_input("Uploaded from", value=None)
    date_to = end.date_input("Uploaded until", value=None)
    labels = {view.id: view.label for view in api.themes()}
    themes = theme_column.multiselect("Theme", list(labels), format_func=labels.get)
    limit = size.slider("Moments cited, at most", 1, 10, api.DEFAULT_CITATIONS)
    speakers = st.multiselect("Said by", [person.name for person in api.people()], placeholder="anyone",
                              help="only what these people said")

filters = SearchFilters(platforms=platforms, categories=categories, themes=themes, speakers=speakers,
                        collections=[collection.id] if collection else [],
                        date_from=date_from.isoformat() if date_from else None,
                        date_to=date_to.isoformat() if date_to else None)
conversation("library", filters, limit=limit)
