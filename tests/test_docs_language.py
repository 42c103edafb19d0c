"""The user-facing text (README.md, docs/, the package's code, docstrings and --help) speaks in the user's terms:
no numbered work periods or work-item numbers, which a user cannot look up. History lives in CHANGELOG.md."""
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORK_HISTORY = re.compile(r"[Ss]es[s]ion [0-9]|issue [0-9]+|chose nothing")
SUFFIXES = {".md", ".py", ".yml", ".yaml", ".toml", ".txt", ".html", ".js", ".css"}


def user_facing_files() -> list[Path]:
    files = [ROOT / "README.md"]
    for folder in ("docs", "realtime_fer"):
        files += sorted(p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    return files


def work_history_lines(paths: list[Path], root: Path = ROOT) -> list[str]:
    """``path:line: text`` for every line that names a work period or a work item."""
    hits = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if WORK_HISTORY.search(line):
                hits.append(f"{path.relative_to(root)}:{number}: {line.strip()[:160]}")
    return hits


def test_the_scan_covers_the_docs_and_the_package():
    names = {p.relative_to(ROOT).as_posix() for p in user_facing_files()}
    assert {"README.md", "docs/index.md", "realtime_fer/apps/cli/arguments.py"} <= names


@pytest.mark.parametrize("text", ["measured in session 7", "before issue 17", "(a split that chose nothing)"])
def test_the_pattern_finds_work_history(tmp_path, text):
    probe = tmp_path / "page.md"
    probe.write_text(f"Fine.\nA figure {text}.\n", encoding="utf-8")
    assert work_history_lines([probe], tmp_path) == [f"page.md:2: A figure {text}."]


def test_readme_docs_and_package_speak_in_user_terms():
    hits = work_history_lines(user_facing_files())
    assert not hits, ("work history in user-facing text (say what a thing is, give figures their date or version, "
                      "keep history in CHANGELOG.md):\n" + "\n".join(hits))


def test_the_docs_site_starts_with_getting_started_and_names_each_modes_detector():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert "- Getting started: getting-started.md" in nav
    index = " ".join((ROOT / "docs" / "index.md").read_text(encoding="utf-8").split())
    assert ("BlazeFace with CenterFace passes for small faces (live and video) or CenterFace alone (photos) finds the "
            "faces") in index
