"""Nobody is let in by accident: the app listens on this machine only, and says so when it does not."""

import pytest
from streamlit import config as streamlit_config
from streamlit.testing.v1 import AppTest

from core.access import exposure_warning, reachable_from_other_machines
from tests.conftest import ROOT

APP = str(ROOT / "streamlit_app.py")


@pytest.mark.parametrize("address, reachable", [
    (None, True), ("", True), ("0.0.0.0", True), ("::", True), ("192.168.1.20", True), ("myhost.lan", True),
    ("127.0.0.1", False), ("localhost", False), ("::1", False), ("[::1]", False), ("127.0.0.2", False),
])
def test_which_addresses_other_machines_reach(address, reachable):
    assert reachable_from_other_machines(address) is reachable
    assert (exposure_warning(address, sign_in_required=False) is not None) is reachable
    assert exposure_warning(address, sign_in_required=True) is None


def test_the_project_config_listens_on_loopback_only():
    import tomllib

    with open(ROOT / ".streamlit" / "config.toml", "rb") as file:
        assert tomllib.load(file)["server"]["address"] == "127.0.0.1"


@pytest.fixture
def listening_everywhere():
    before = streamlit_config.get_option("server.address")
    streamlit_config.set_option("server.address", "0.0.0.0")
    yield
    streamlit_config.set_option("server.address", before)


def test_sidebar_warns_when_anyone_on_the_network_can_use_the_app(empty_library, listening_everywhere):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    [warning] = at.sidebar.warning
    assert "asks no one to sign in" in warning.value and "0.0.0.0" in warning.value


def test_with_a_login_configured_nothing_shows_before_signing_in(empty_library, listening_everywhere):
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test",
                          "client_id": "app", "client_secret": "secret",
                          "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.sidebar.warning and not at.text_area  # no library, no submit form
