"""`c360 quality`: verify contracts outside Dagster and print one line per dataset."""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table


def verify_and_report(datasets: list[str]) -> int:
    """0 when every dataset verified passes its blocking checks and its minimum score."""
    from c360_core.settings import settings
    from quality.soda import contracts
    from quality.verification import verify_dataset

    known = [c.dataset for c in contracts()]
    unknown = sorted(set(datasets) - set(known))
    if unknown:
        Console(stderr=True).print(f"[red]no contract for {', '.join(unknown)}[/]; known: {', '.join(known)}")
        return 2
    table = Table(title=f"quality on {settings().target}")
    for col in ("dataset", "score", "min", "checks failed", "blocking failed", "seconds"):
        table.add_column(col, justify="left" if col in ("dataset", "blocking failed") else "right")
    ok = True
    for dataset in datasets or known:
        started = time.perf_counter()
        v = verify_dataset(settings(), dataset, "c360-quality-cli")
        s = v.scored
        ok = ok and not s.blocking_failed and not v.below_threshold
        table.add_row(dataset, f"{s.score:.2f}", f"{v.min_score:g}", f"{s.checks_failed}/{s.checks_total}",
                      ", ".join(s.blocking_failed) or "-", f"{time.perf_counter() - started:.2f}")  # fmt: skip
    Console().print(table)
    return 0 if ok else 1
