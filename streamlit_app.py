"""Video Insight Studio: `streamlit run streamlit_app.py`."""

import streamlit as st

from core import api
from pages.components import require_sign_in

st.set_page_config(page_title="Video Insight Studio", page_icon="🎬", layout="wide")
api.prepare_link_checks()  # once per server process: the first link pasted is checked at once
require_sign_in()  # before the navigation, so not even the page list shows to someone signed out

pages = [
    st.Page("pages/submit.py", title="Submit", icon="➕", default=True),
    st.Page("pages/library.py", title="Library", icon="📚"),
    st.Page("pages/dashboard.py", title="Dashboard", icon="📊"),
    st.Page("pages/search.py", title="Search", icon="🔎"),
    st.Page("pages/video.py", title="Video", icon="🎬", url_path="video", visibility="hidden"),
]
try:
    st.navigation(pages).run()
except (api.LibraryUnavailable, api.ReadOnlyLibrary) as exc:  # whichever page met it: say so, lose nothing
    st.error(str(exc), icon="🛑")
