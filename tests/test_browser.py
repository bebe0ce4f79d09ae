"""The main journey in a real headless Chromium against a real Streamlit server, queue and worker."""

import json
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from testkit.services import start_streamlit
from tests.conftest import HOSTILE_TITLE, ROOT, SCRATCH

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def app_url(library):
    log = open(library.data_dir / "streamlit.log", "w")
    server, url = start_streamlit(library.env, SCRATCH, log)
    yield url
    server.terminate()
    server.wait(15)
    log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_paste_a_link_and_watch_it_complete(app_url, browser, media_server):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(app_url)
    page.get_by_role("textbox", name="Video links").fill(f"{media_server}/football.mp4?from=browser")
    page.get_by_role("button", name="Process").click()
    expect(page.get_by_text("Your jobs")).to_be_visible(timeout=30_000)
    shot(page, "submit-running")
    # No reload: the status fragment refreshes itself until the worker is done.
    expect(page.get_by_text("Completed", exact=False).first).to_be_visible(timeout=300_000)
    shot(page, "submit-completed")

    page.get_by_role("link", name="Open").first.click()
    expect(page.get_by_text("penalty", exact=False).first).to_be_visible(timeout=30_000)
    shot(page, "video-transcript")
    # Clicking a segment's time plays the audio from there.
    second_segment = page.get_by_role("button", name=re.compile(r"^0:0[1-9]$")).first
    start = int(second_segment.inner_text().strip().split(":")[1])
    second_segment.click()
    page.wait_for_function(f"() => Math.abs(document.querySelector('audio').currentTime - {start}) < 1.5",
                           timeout=30_000)
    # The browser read the stored audio (the video's own sound track, kept as it is) and knows its length.
    page.wait_for_function("() => document.querySelector('audio').duration > 5", timeout=30_000)
    page.get_by_role("tab", name="🧠 Analysis").click()
    expect(page.get_by_text("Summary")).to_be_visible()
    expect(page.locator(".js-plotly-plot")).to_have_count(2)  # drawn once the tab opens
    assert "tab=" in page.url  # the open tab is in the link
    shot(page, "video-analysis")
    page.close()


def test_dashboard_and_search_in_the_browser(app_url, browser, library, media_server):
    result = library.cli("submit", f"{media_server}/cooking.mp4", "--wait", "--json")
    assert result.returncode == 0, result.stderr
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/dashboard")
    expect(page.locator(".js-plotly-plot")).to_have_count(2, timeout=60_000)  # the open tab's
    shot(page, "dashboard")
    page.get_by_role("tab", name="🔀 Breakdown").click()
    page.get_by_role("radio", name="Spoken language").click()
    expect(page.get_by_text("Average sentiment by language")).to_be_visible(timeout=30_000)
    assert "breakdown=Spoken+language" in page.url  # a view that can be shared
    shot(page, "dashboard-breakdown")
    page.get_by_role("tab", name="🏷️ Topics").click()
    expect(page.get_by_text("Videos per theme")).to_be_visible(timeout=30_000)
    expect(page.locator(".js-plotly-plot")).to_have_count(2)
    shot(page, "dashboard-themes")

    page.goto(f"{app_url}/search")
    page.get_by_role("textbox", name="Search the library by meaning").fill("a dessert recipe")
    page.keyboard.press("Enter")
    expect(page.get_by_text("strawberries", exact=False).first).to_be_visible(timeout=30_000)
    shot(page, "search")
    page.get_by_role("link", name="Open at this moment").first.click()
    expect(page.get_by_text("chocolate cake", exact=False).first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="0:00", exact=True)).to_be_visible()
    assert "t=" in page.url
    shot(page, "video-from-search")
    page.close()


def test_delete_from_the_library_after_confirming(app_url, browser, library, media_server):
    result = library.cli("submit", f"{media_server}/football.mp4?copy=to-delete", "--force", "--wait", "--json")
    assert result.returncode == 0, result.stderr
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/library")
    expect(page.get_by_text("football").first).to_be_visible(timeout=30_000)
    count = library.cli("jobs", "--json").stdout.count('"id"')
    page.get_by_role("button", name="Delete").first.click()
    expect(page.get_by_text("will be removed for good")).to_be_visible(timeout=10_000)
    shot(page, "library-delete-dialog")
    page.get_by_role("button", name="Delete for good").click()
    expect(page.get_by_text("will be removed for good")).to_be_hidden(timeout=10_000)
    page.wait_for_timeout(500)
    assert library.cli("jobs", "--json").stdout.count('"id"') == count - 1
    page.close()


def test_a_hostile_title_shows_literally(app_url, browser, library, media_server):
    result = library.cli("submit", f"{media_server}/hostile.html", "--wait", "--json")
    assert result.returncode == 0, result.stderr
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.on("dialog", lambda dialog: pytest.fail(f"a script ran: {dialog.message}"))
    for path in ("library", f"video?job={json.loads(result.stdout)[0]['id']}"):
        page.goto(f"{app_url}/{path}")
        expect(page.get_by_text(HOSTILE_TITLE).first).to_be_visible(timeout=30_000)
        assert page.locator("img[src='x']").count() == 0
        assert page.locator("a[href^='javascript']").count() == 0
    shot(page, "hostile-title")
    page.close()


def test_a_page_opened_by_its_address_on_a_fresh_server_is_the_app(browser, empty_library, tmp_path):
    """Streamlit runs a file of a folder named pages/ on its own when its address is the first thing opened
    after the server starts (listing every file of the folder, helpers too); the app steps in."""
    log = open(tmp_path / "streamlit.log", "w")
    server, url = start_streamlit(empty_library.env, SCRATCH, log)
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{url}/library")
        expect(page.get_by_text("The library is empty")).to_be_visible(timeout=30_000)
        sidebar = page.locator('[data-testid="stSidebarNavLink"]')
        expect(sidebar).to_have_count(5)
        assert [re.sub(r"\W", "", text) for text in sidebar.all_inner_texts()] == [
            "Submit", "Library", "Dashboard", "Search", "Ask"]
        page.goto(f"{url}/components")  # a helper module, not a page
        expect(page.get_by_role("textbox", name="Video links")).to_be_visible(timeout=30_000)
        page.close()
    finally:
        server.terminate()
        server.wait(15)
        log.close()


def test_with_a_login_configured_no_page_shows_before_signing_in(browser, empty_library, tmp_path):
    """Even a page opened by its own address on a fresh server (Streamlit then runs it without the app
    around it) shows nothing of the library."""
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[auth]\nredirect_uri = "http://127.0.0.1:8501/oauth2callback"\ncookie_secret = "test"\n'
                       'client_id = "app"\nclient_secret = "secret"\n'
                       'server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"\n')
    log = open(tmp_path / "streamlit.log", "w")
    server, url = start_streamlit(empty_library.env, SCRATCH, log, ("--secrets.files", str(secrets)))
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        for path in ("library", "search", ""):
            page.goto(f"{url}/{path}")
            expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=30_000)
            assert page.get_by_text("The library is empty").count() == 0
            assert page.get_by_role("textbox").count() == 0
        shot(page, "sign-in")
        page.close()
    finally:
        server.terminate()
        server.wait(15)
        log.close()


def test_a_collection_link_in_the_browser(app_url, browser, media_server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_role("textbox", name="Video links").fill(f"{media_server}/trips.html")
    page.get_by_role("button", name="Process").click()
    expect(page.get_by_text("Portugal trips: 2 videos, 2 new")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Completed", exact=False)).to_have_count(2, timeout=300_000)
    shot(page, "collection-submitted")

    page.goto(f"{app_url}/library")
    expect(page.get_by_role("combobox", name="Collection")).to_be_visible(timeout=30_000)
    page.get_by_role("combobox", name="Collection").click()
    page.get_by_role("option", name="Portugal trips").click()
    page.keyboard.press("Escape")
    expect(page.get_by_text("cooking", exact=False)).to_have_count(0, timeout=30_000)  # the other videos go
    expect(page.get_by_text("trip-", exact=False)).to_have_count(2, timeout=30_000)
    shot(page, "library-by-collection")
    page.close()


def video_page(app_url, browser, library, url: str):
    """The page of the video at `url`, processed first (or found in the library): (page, job as JSON)."""
    result = library.cli("submit", url, "--wait", "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{app_url}/video?job={job['id']}")
    return page, job


def test_read_along_follows_the_audio_and_plays_from_a_clicked_word(app_url, browser, library, media_server):
    page, _ = video_page(app_url, browser, library, f"{media_server}/football-chapters.mp4")
    page.get_by_role("radio", name=re.compile("Read along")).click()
    frame = page.frame_locator("iframe").first
    word = frame.locator(".w").nth(6)
    expect(word).to_be_visible(timeout=30_000)
    start = float(word.get_attribute("data-s"))
    word.click()  # plays the page's audio from that word
    page.wait_for_function(f"() => Math.abs(document.querySelector('audio').currentTime - {start}) < 1.5",
                           timeout=30_000)
    expect(frame.locator(".now")).to_have_count(1, timeout=10_000)  # the word being spoken is marked
    expect(frame.locator(".ch.playing")).to_have_count(1, timeout=10_000)  # and the chapter it is in
    page.wait_for_function("() => !document.querySelector('audio').paused", timeout=10_000)
    frame.locator("body").press("Space")  # and Space pauses it
    page.wait_for_function("() => document.querySelector('audio').paused", timeout=10_000)
    shot(page, "read-along")
    page.close()


def test_a_lines_time_plays_from_there_and_a_line_is_corrected_in_place(app_url, browser, library, media_server):
    page, job = video_page(app_url, browser, library, f"{media_server}/football-chapters.mp4")
    line = page.locator(".lines .line").nth(1)
    expect(line).to_be_visible(timeout=30_000)
    minutes, seconds = line.locator(".time").inner_text().split(":")
    start = int(minutes) * 60 + int(seconds)
    line.locator(".time").click()  # plays the page's audio from that line, in the browser
    page.wait_for_function(f"() => Math.abs(document.querySelector('audio').currentTime - {start}) < 1.5",
                           timeout=30_000)
    expect(line).to_have_class(re.compile(r"\bnow\b"), timeout=10_000)  # the line being heard is marked
    page.evaluate("() => document.querySelector('audio').pause()")

    said = line.locator(".words").inner_text()
    line.get_by_role("button", name=re.compile("Correct the line")).click()
    box = line.get_by_role("textbox", name="Corrected text")
    expect(box).to_have_value(said)
    box.press("Escape")  # changed its mind: the line as it was
    expect(box).to_have_count(0)
    expect(line.locator(".words")).to_be_visible()
    line.get_by_role("button", name=re.compile("Correct the line")).click()
    box.fill(said + " Zanzibar")
    shot(page, "correct-a-line")
    expect(line.get_by_role("button", name="Save")).to_be_enabled()
    box.press("Control+Enter")  # what Save does
    expect(page.get_by_text("Revision 1 · 1 correction")).to_be_visible(timeout=30_000)
    expect(page.locator(".lines .line").nth(1).locator(".words")).to_have_text(said + " Zanzibar")
    history = json.loads(library.cli("edit", job["id"], "--history", "--json").stdout)
    assert len(history) == 1  # saved once, however the page ran again
    with page.expect_download() as download:  # the file is written when asked for, with the correction
        page.get_by_role("button", name="SRT", exact=True).click()
    assert download.value.suggested_filename.endswith(".srt")
    assert "Zanzibar" in open(download.value.path(), encoding="utf-8").read()
    assert library.cli("edit", job["id"], "--undo").returncode == 0
    page.close()


def test_an_open_library_page_shows_what_others_add(app_url, browser, library, media_server):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{app_url}/library")
    expect(page.get_by_role("heading", name="📚 Library")).to_be_visible(timeout=30_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000)
    result = library.cli("submit", f"{media_server}/football.mp4?copy=added-elsewhere", "--force", "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)
    # no reload: the page looks at the library's counts (every 15 s while nothing moves) and draws itself again
    expect(page.locator(f'a[href*="job={job["id"]}"]')).to_have_count(1, timeout=45_000)
    page.close()
