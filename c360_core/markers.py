"""Generated sections of the docs: the text between two HTML comment markers, replaced whole."""

from collections.abc import Callable
from pathlib import Path


def replace_between(page: str, start: str, end: str, body: str) -> str:
    head, rest = page.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def rewrite(page: Path, render: Callable[[str], str]) -> None:
    """Write a page with its generated sections rendered again (each docs module's `python -m` entry)."""
    page.write_text(render(page.read_text()))
    print(f"updated {page}")
