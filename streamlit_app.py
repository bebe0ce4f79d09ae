"""Video Insight Studio: `streamlit run streamlit_app.py`."""

import streamlit as st

from core import api
from pages.components import THROUGH_THE_APP, app_pages, require_sign_in

st.set_page_config(page_title="Video Insight Studio", page_icon="🎬", layout="wide")
api.prepare_link_checks()  # once per server process: the first link pasted is checked at once
if st.context.headers:  # a browser's session on a running server (an AppTest has no request): load for search
    api.prepare_search()  # so that the first search answers as fast as the next
require_sign_in()  # before the navigation, so not even the page list shows to someone signed out
st.session_state[THROUGH_THE_APP] = True
try:
    st.navigation(app_pages()).run()
except (api.LibraryUnavailable, api.ReadOnlyLibrary) as exc:  # whichever page met it: say so, lose nothing
    st.error(str(exc), icon="🛑")
