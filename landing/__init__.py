"""The landing-zone contract: how source systems hand data to c360 (docs/landing-zone.md).

The product owns it: the loaders, the sensors, the partitions and retention read it, and the simulator is one
producer that writes by it, as a company's exports would. Nothing here imports the rest of c360.

- `zone`: the seven sources (columns, formats, cadences, file naming), listing and dating their files,
  decompression;
- `shop`: the live shop database's tables (PostgreSQL).
"""

from landing.shop import SHOP_DDL
from landing.zone import (
    COMPRESSED,
    DATE,
    DOUBLE,
    INTEGER,
    MANIFEST_DIR,
    SOURCES,
    STALE_AFTER,
    TIMESTAMP,
    VARCHAR,
    Source,
    decompress,
    earliest_period,
    files,
    path_for,
    period_of,
)

__all__ = ["COMPRESSED", "DATE", "DOUBLE", "INTEGER", "MANIFEST_DIR", "SHOP_DDL", "SOURCES", "STALE_AFTER",
           "TIMESTAMP", "VARCHAR", "Source", "decompress", "earliest_period", "files", "path_for",
           "period_of"]  # fmt: skip
