"""Ask the library: answers that cite the moments they come from."""

import streamlit as st

from pages.components import conversation, library_filters, page_start

page_start("💬 Ask the library")
st.caption("Every answer cites the moments it comes from; when the library does not say, the answer says so. "
           "Follow-up questions are read with the ones before.")
filters, limit = library_filters("ask-filters", "Ask only some videos", sentiments=False, collections=True,
                                 cited=True)
conversation("library", filters, limit=limit)
