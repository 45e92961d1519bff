"""Every relative link in README.md and docs/ leads somewhere, and every `docs/<page>.md` the code, the
dbt project and the pages name exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
NAMED_PAGE = re.compile(r"\bdocs/[\w-]+\.md\b")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_has_a_target(page: Path):
    dead = []
    for target in LINK.findall(page.read_text()):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):  # a URL or an anchor of the page
            continue
        path = target.split("#", 1)[0]
        if not (page.parent / path).exists():
            dead.append(target)
    assert dead == []


def test_every_docs_page_named_anywhere_exists():
    sources = [*PAGES, *ROOT.glob("*.yaml"), *(ROOT / "dbt_project").rglob("*.yml")]
    for package in ("c360_core", "c360_cli", "orchestration", "quality", "ml", "governance", "simulator", "bench"):
        sources += list((ROOT / package).rglob("*.py"))
    sources += [p for p in (ROOT / "dbt_project").rglob("*.sql") if "target" not in p.parts]
    missing = {
        f"{source.relative_to(ROOT)}: {name}"
        for source in sources
        if "target" not in source.relative_to(ROOT).parts
        for name in NAMED_PAGE.findall(source.read_text())
        if not (ROOT / name).exists()
    }
    assert missing == set()


PACKAGES = "orchestration|c360_cli|c360_core|ml|quality|governance|landing|simulator|tests|bench|dbt_project"
FILE = re.compile(rf"\b((?:{PACKAGES})/[\w./-]+\.(?:py|yml|yaml|sql|md|json))\b")


def test_every_file_of_the_repository_the_pages_name_exists():
    """A page that names a module moved since (orchestration/lib/compat.py, say) sends its reader nowhere."""
    missing = {f"{page.relative_to(ROOT)}: {name}" for page in PAGES for name in FILE.findall(page.read_text())
               if not (ROOT / name).exists()}  # fmt: skip
    assert missing == set()
