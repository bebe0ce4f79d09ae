"""Video Insight Studio: `streamlit run streamlit_app.py`."""

import streamlit as st

from core import access, api

st.set_page_config(page_title="Video Insight Studio", page_icon="🎬", layout="wide")

# With an [auth] section in .streamlit/secrets.toml (Streamlit's OpenID Connect login), nobody gets in
# without signing in.
try:
    sign_in_required = "auth" in st.secrets
except FileNotFoundError:  # no secrets.toml at all
    sign_in_required = False
if sign_in_required and not st.user.get("is_logged_in", False):
    st.title("🎬 Video Insight Studio")
    st.write("Sign in to use this library.")
    st.button("Sign in", type="primary", on_click=st.login)
    st.stop()
if sign_in_required:
    st.sidebar.button("Sign out", on_click=st.logout)

warning = access.exposure_warning(st.get_option("server.address"), sign_in_required)
if warning:
    st.sidebar.warning(warning, icon="🔓")

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
