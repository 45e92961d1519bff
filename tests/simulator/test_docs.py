"""docs/landing-zone.md documents every column the simulator writes, with its type."""

import re
from pathlib import Path

from landing import SOURCES
from simulator import reference as ref

DOC = (Path(__file__).parents[2] / "docs" / "landing-zone.md").read_text()


def test_every_column_is_documented_with_its_type():
    rows = set(re.findall(r"^\| (\w+) \| (\w+) \|", DOC, flags=re.MULTILINE))
    for source in SOURCES.values():
        for column, kind in source.columns.items():
            assert (column, kind) in rows, f"{source.name}.{column} ({kind}) is not in docs/landing-zone.md"


def test_every_path_pattern_and_accepted_value_is_documented():
    for source in SOURCES.values():
        assert source.pattern.split("/")[0] in DOC
    for value in [*ref.GENDERS, *ref.ORDER_STATUSES, *ref.PAYMENT_METHODS, *ref.EVENT_ACTIONS, *ref.BRAND_TYPES]:
        assert f"`{value}`" in DOC, value
    for category, subcategories in ref.CATEGORIES.items():
        assert f"{category} ({', '.join(subcategories)})" in " ".join(DOC.split()), category
