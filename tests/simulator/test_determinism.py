import gzip
import hashlib
import json
from pathlib import Path

import orjson
import pyarrow as pa

from simulator.config import GeneratorConfig
from simulator.generate import _Run
from tests.simulator.conftest import START, make
from tests.support.readers import files


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


def _unzstd(data: bytes) -> bytes:
    return pa.input_stream(pa.py_buffer(data), compression="zstd").read() if data else b""


def test_same_seed_and_args_give_identical_bytes(tmp_path, clean):
    again = make(tmp_path / "again")
    first, second = digest(clean.out), digest(again.out)
    assert len(first) > 1000
    assert first == second


def test_another_seed_gives_other_data(tmp_path, clean):
    other = make(tmp_path / "other", seed=8)
    a, b = digest(clean.out), digest(other.out)
    empty = hashlib.sha256(b"").hexdigest()  # quiet night hours are empty under any seed
    common = {k for k in a.keys() & b.keys() if a[k] != empty}
    changed = [k for k in common if a[k] != b[k]]
    assert len(changed) > 0.9 * len(common)
    assert a.keys() != b.keys()  # order micro-batches exist only for windows with activity


def test_defects_overlay_the_clean_data_without_shifting_it(tmp_path, clean):
    """Planting defects must not change which records exist: records are only added, each counted in the
    manifest (a page-view burst's copies, a bounce spike's sessions)."""
    dirty = make(tmp_path / "dirty", defects=0.02)
    planted = json.loads((dirty.out / "_manifest" / "defects.json").read_text())["defects"]
    added = sum(d.get("copies", 0) + d.get("sessions", 0) for d in planted if d["source"] == "web_events")
    assert added > 0
    for source in ("orders", "order_line_items", "transactions", "web_events", "customers"):
        clean_lines = sum(len(p.read_text().splitlines()) for p in files(clean.out, source))
        dirty_lines = sum(len(p.read_text().splitlines()) for p in files(dirty.out, source))
        assert dirty_lines - clean_lines == (added if source == "web_events" else 0), source


def test_the_bytes_do_not_depend_on_the_number_of_writer_processes(tmp_path, clean):
    parallel = make(tmp_path / "parallel", workers=2)
    assert digest(parallel.out) == digest(clean.out)


def test_compressed_files_hold_the_same_bytes(tmp_path, clean):
    """--compress changes the files' encoding, never their content, names or planted defects."""
    plain = digest(clean.out)
    for codec, suffix, opener in (("gzip", ".gz", gzip.decompress), ("zstd", ".zst", _unzstd)):
        packed = make(tmp_path / codec, compress=codec, workers=2)
        unpacked = {}
        for p in packed.out.rglob("*"):
            rel = str(p.relative_to(packed.out))
            if p.is_file() and not rel.startswith("_manifest"):
                assert rel.endswith(suffix), rel
                unpacked[rel.removesuffix(suffix)] = hashlib.sha256(opener(p.read_bytes())).hexdigest()
        assert unpacked == {k: v for k, v in plain.items() if not k.startswith("_manifest")}


def test_web_events_serialised_in_bulk_are_what_orjson_makes_of_each_row():
    """The columnar writer formats every value (nulls, floats, ints, text) as orjson does."""
    cfg = GeneratorConfig(customers=300, seed=3, start=START, end=START, quiet=True)
    run = _Run(cfg)
    run.day(0, lambda source: None)
    events = run.web.take(0)
    lines = events.json_lines()
    assert len(lines) > 100
    assert any(b'"order_value":' in line and b'"order_value":null' not in line for line in lines)
    assert lines == [orjson.dumps(events.row(i)) for i in range(len(events))]
