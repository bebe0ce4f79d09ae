"""Settings: where they come from, and that the tests never pick up the developer's own."""

import json
from pathlib import Path

from core.config import get_settings
from tests.conftest import ROOT


def test_a_repo_root_env_file_never_reaches_the_tests(empty_library):
    dotenv = ROOT / ".env"
    made_here = not dotenv.exists()
    if made_here:  # a developer's own .env is left as it is: whatever it says must not leak either
        dotenv.write_text("DATABASE_URL=postgresql://nobody@192.0.2.1/nowhere\nOPENAI_API_KEY=sk-not-a-key\n"
                          "SUPABASE_URL=http://192.0.2.1\n")
    try:
        assert Path.cwd() != ROOT
        settings = get_settings()
        assert settings.database_url is None and settings.openai_api_key is None and settings.supabase_url is None
        listed = empty_library.cli("jobs", "--json")
        assert listed.returncode == 0, listed.stderr
        assert json.loads(listed.stdout) == []
    finally:
        if made_here:
            dotenv.unlink()
