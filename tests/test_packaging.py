"""Files the package reads at run time ship in the wheel: a data file moved to another folder must take
its ``package-data`` glob along (the word list moved to ``kocr/data/synth/`` in the data/ split)."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
from importlib import resources
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_data_file_under_kocr_is_package_data() -> None:
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"
    ]["kocr"]
    listed = subprocess.run(
        ["git", "ls-files", "kocr"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    data_files = [name.removeprefix("kocr/") for name in listed if not name.endswith(".py")]
    if not data_files:  # not a git checkout (an sdist): nothing to compare against
        data_files = [
            p.relative_to(ROOT / "kocr").as_posix()
            for p in (ROOT / "kocr").rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc")
        ]
    missing = [name for name in data_files if not any(fnmatch.fnmatch(name, g) for g in globs)]
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"


def test_word_list_is_found_as_a_package_resource() -> None:
    assert resources.files("kocr.data.synth").joinpath("wordlist_ko.txt").is_file()


def test_report_templates_are_found_as_package_resources() -> None:
    """kocr eval --report renders jinja2 templates shipped inside the package (kocr/report/templates)."""
    templates = resources.files("kocr.report").joinpath("templates")
    assert {"base.html", "lines.html", "pages.html", "_macros.html"} <= {p.name for p in templates.iterdir()}
