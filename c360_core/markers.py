"""Generated sections of the docs: the text between two HTML comment markers, replaced whole."""


def replace_between(page: str, start: str, end: str, body: str) -> str:
    head, rest = page.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"
