"""A landing zone of compressed files (.gz, .zst) loads like the plain one: every record read, loaded or
rejected with its reason, and a file that does not decompress fails on its own, with the reason."""

from __future__ import annotations

import gzip
import json
import os
import shutil

import pyarrow as pa
import pytest

from c360_core.warehouse import connect
from landing import SOURCES
from orchestration.lib.load import load_source
from simulator.config import GeneratorConfig
from simulator.generate import generate
from tests.support.warehouse import END, START

OPEN = {".gz": gzip.decompress, ".zst": lambda b: pa.input_stream(pa.py_buffer(b), compression="zstd").read()}


def records(name: str, text: str) -> int:
    """Records in a file's text, counted here from the text alone."""
    if name.endswith(".xml"):
        return text.count("<brand>")
    if name.endswith(".json"):
        return text.count('"sku_id"')
    return len([line for line in text.splitlines() if line.strip()]) - name.endswith(".csv")


@pytest.mark.parametrize("codec", ["zstd", "gzip"])
def test_a_compressed_landing_zone_loads_every_record(fresh, tmp_path, codec):
    packed = tmp_path / "packed"
    cfg = GeneratorConfig(customers=300, seed=3, start=START, end=END, out=packed, quiet=True, defects=0.02,
                          compress=codec)  # fmt: skip
    generate(cfg)
    shutil.rmtree(fresh.landing)
    shutil.copytree(packed, fresh.landing)
    suffix = {"zstd": ".zst", "gzip": ".gz"}[codec]

    with connect(fresh) as wh:
        for source in SOURCES.values():
            assert not load_source(wh, source, fresh.landing).failures
        audit = {f: rest for f, *rest in wh.query("select file, rows_read, rows_loaded, rows_rejected, file_bytes "
                                                  "from audit.load_runs")[1]}  # fmt: skip
        _, web_rejects = wh.query("select _source_file, _line from raw.web_events__rejects")

    files = [p for p in fresh.landing.rglob(f"*{suffix}")]
    assert len(files) > 1000 and len(audit) == len(files)
    for path in files:
        rel = str(path.relative_to(fresh.landing))
        read, loaded, rejected, size = audit[rel]
        text = OPEN[suffix](path.read_bytes()).decode()
        assert read == loaded + rejected == records(rel.removesuffix(suffix), text), rel
        assert size == path.stat().st_size  # the audit keeps the file as it lies in the landing zone

    manifest = json.loads((packed / "_manifest" / "defects.json").read_text())["defects"]
    planted = {
        (d["file"], d["line"]) for d in manifest if d["source"] == "web_events" and d["kind"] == "malformed_line"
    }
    assert planted and sorted(web_rejects) == sorted(planted)  # cut-off lines, found at their file and line


def test_a_file_that_does_not_decompress_fails_alone(fresh, tmp_path):
    packed = tmp_path / "packed"
    generate(GeneratorConfig(customers=300, seed=3, start=START, end=END, out=packed, quiet=True, compress="zstd"))
    shutil.rmtree(fresh.landing)
    shutil.copytree(packed, fresh.landing)
    victim = sorted(fresh.landing.glob("shop/orders/*.jsonl.zst"))[3]
    whole = victim.read_bytes()
    victim.write_bytes(whole[: len(whole) // 2])  # cut off in transfer

    with connect(fresh) as wh:
        summary = load_source(wh, SOURCES["orders"], fresh.landing)
        assert len(summary.failures) == 1 and "cannot decompress" in summary.failures[0]
        _, [(status, error)] = wh.query("select status, error from audit.load_runs where file = ?",
                                        [str(victim.relative_to(fresh.landing))])  # fmt: skip
        assert status == "failed" and "cannot decompress" in error
        others = sum(records(p.name.removesuffix(".zst"), OPEN[".zst"](p.read_bytes()).decode())
                     for p in fresh.landing.glob("shop/orders/*.jsonl.zst") if p != victim)  # fmt: skip
        _, [(loaded,)] = wh.query("select count(*) + (select count(*) from raw.orders__rejects) from raw.orders")
        assert loaded == others

        victim.write_bytes(whole)  # delivered again, whole: the next load takes it
        os.utime(victim, (victim.stat().st_mtime + 60,) * 2)
        again = load_source(wh, SOURCES["orders"], fresh.landing)
        assert not again.failures and again.files_loaded == 1
