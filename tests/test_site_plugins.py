"""A site yt-dlp does not know, added as a yt-dlp extractor plugin package: submitting detects it by the
plugin's own rules and the pipeline downloads through it, with no change to this project."""

import json
import os

PLUGIN = '''
from yt_dlp.extractor.common import InfoExtractor


class StudioTalksIE(InfoExtractor):
    IE_NAME = "studiotalks"
    _VALID_URL = r"https?://127\\.0\\.0\\.1:\\d+/talks/(?P<id>[a-z0-9-]+)"

    def _real_extract(self, url):
        video_id = self._match_id(url)
        base = url.split("/talks/")[0]
        return {"id": video_id, "title": f"Talk about {video_id}", "url": f"{base}/{video_id}.mp4", "ext": "mp4"}
'''


def test_an_extractor_plugin_adds_a_site(empty_library, media_server, tmp_path):
    package = tmp_path / "plugins" / "yt_dlp_plugins" / "extractor"
    package.mkdir(parents=True)
    (package / "studio_talks.py").write_text(PLUGIN)
    empty_library.env["PYTHONPATH"] += os.pathsep + str(tmp_path / "plugins")

    result = empty_library.cli("run", f"{media_server}/talks/cooking", "--json")
    assert result.returncode == 0, result.stderr
    [job] = json.loads(result.stdout)
    assert job["status"] == "completed", job["error"]
    assert (job["platform"], job["video_id"], job["title"]) == ("studiotalks", "cooking", "Talk about cooking")
    details = json.loads(empty_library.cli("show", job["id"], "--json").stdout)
    assert "chocolate cake" in details["transcript"]["text"].lower()
