"""The project's metadata agrees with what `make run` installs."""
from __future__ import annotations

import tomllib
from pathlib import Path

import chatbot

REPO_ROOT = Path(__file__).resolve().parents[1]


def direct_requirements() -> dict[str, str]:
    """{name: pinned version} of requirements.txt's first block (the direct dependencies)."""
    block = (REPO_ROOT / "requirements.txt").read_text(encoding="utf-8").split("\n\n")[0]
    pins = [line.split("==") for line in block.splitlines() if line and not line.startswith("#")]
    return {name: version for name, version in pins}


def test_pyproject_names_every_direct_requirement_at_its_pinned_version_or_later():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = dict(item.split(">=") for item in project["dependencies"])
    assert declared == direct_requirements()
    assert project["version"] == chatbot.__version__
