"""Load one of the project's top-level scripts (train.py, gunicorn.conf.py) as a module, for tests."""
from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[1]


def load_script(name: str) -> ModuleType:
    """The script `name` (a file at the top of the repository), executed as a fresh module."""
    spec = importlib.util.spec_from_file_location(Path(name).stem.replace(".", "_"), REPO_ROOT / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
