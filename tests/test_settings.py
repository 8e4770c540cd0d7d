"""Settings: declared once, documented in the README, read in a fixed order."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatbot.settings import SETTINGS, SettingsError, resolve_settings

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_every_setting_is_in_the_readme_settings_table(name):
    rows = [line for line in README.read_text(encoding="utf-8").splitlines() if line.startswith("| `CHATBOT_")]
    assert any(re.match(rf"\| `{name}` \|", row) for row in rows)


def test_the_readme_documents_no_setting_that_does_not_exist():
    documented = re.findall(r"^\| `(CHATBOT_\w+)` \|", README.read_text(encoding="utf-8"), re.M)
    assert set(documented) == {s.name for s in SETTINGS}


def test_every_setting_has_help():
    assert all(len(s.help) > 10 for s in SETTINGS)


def test_later_sources_win_defaults_then_instance_config_then_environment_then_test_config(tmp_path):
    assert resolve_settings(tmp_path, environ={})["CHATBOT_RATE_LIMIT"] == "30/minute"
    (tmp_path / "config.toml").write_text('CHATBOT_RATE_LIMIT = "10/minute"\nCHATBOT_RETENTION_DAYS = 30\n')
    assert resolve_settings(tmp_path, environ={})["CHATBOT_RATE_LIMIT"] == "10/minute"
    environ = {"CHATBOT_RATE_LIMIT": "5/minute", "CHATBOT_ANSWER_THRESHOLD": "0.3"}
    values = resolve_settings(tmp_path, environ=environ)
    assert values["CHATBOT_RATE_LIMIT"] == "5/minute" and values["CHATBOT_ANSWER_THRESHOLD"] == 0.3
    assert values["CHATBOT_RETENTION_DAYS"] == 30
    assert resolve_settings(tmp_path, environ=environ, test_config={"CHATBOT_RATE_LIMIT": "off"})[
        "CHATBOT_RATE_LIMIT"] == "off"


def test_instance_relative_defaults_live_in_the_instance_folder(tmp_path):
    values = resolve_settings(tmp_path, environ={})
    assert values["CHATBOT_INDEX_DIR"] == str(tmp_path / "index")
    assert values["CHATBOT_DATABASE_URL"] == f"sqlite:///{tmp_path / 'chatbot.db'}"


@pytest.mark.parametrize("environ, config, fragment", [
    ({"CHATBOT_ANSWER_THRESHOLD": "high"}, None, "CHATBOT_ANSWER_THRESHOLD"),
    ({"CHATBOT_RETENTION_DAYS": "ninety"}, None, "CHATBOT_RETENTION_DAYS"),
    ({}, "CHATBOT_RATE_LIMIT = ", "config.toml"),
    ({}, 'CHATBOT_NO_SUCH_THING = 1\n', "CHATBOT_NO_SUCH_THING"),
])
def test_an_unusable_setting_is_refused_with_its_name(tmp_path, environ, config, fragment):
    if config is not None:
        (tmp_path / "config.toml").write_text(config)
    with pytest.raises(SettingsError, match=fragment):
        resolve_settings(tmp_path, environ=environ)
