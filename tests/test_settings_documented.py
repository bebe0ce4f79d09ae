"""Every setting is documented in the one place people look: .env.example and the README's table."""

from core.config import Settings
from tests.conftest import ROOT


def test_every_setting_is_in_env_example_and_the_readme():
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    missing = [name.upper() for name in Settings.model_fields
               if f"{name.upper()}=" not in example or f"`{name.upper()}`" not in readme]
    assert missing == []
