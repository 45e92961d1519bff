import json

from click.testing import CliRunner

from c360_cli.main import cli

ARGS = ["generate", "--customers", "50", "--start", "2026-03-01", "--end", "2026-03-03", "--quiet"]


def test_generate_writes_the_landing_zone_and_is_safe_to_rerun(tmp_path):
    runner = CliRunner()
    first = runner.invoke(cli, [*ARGS, "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    run = json.loads((tmp_path / "_manifest" / "run.json").read_text())
    assert run["customers"] == 50 and run["start"] == "2026-03-01"
    stamp = (tmp_path / "payments/transactions/transactions_2026-03-02.csv").stat().st_mtime_ns
    again = runner.invoke(cli, [*ARGS, "--out", str(tmp_path)])
    assert again.exit_code == 0
    assert (tmp_path / "payments/transactions/transactions_2026-03-02.csv").stat().st_mtime_ns == stamp


def test_a_different_dataset_needs_overwrite(tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, [*ARGS, "--out", str(tmp_path)]).exit_code == 0
    refused = runner.invoke(cli, [*ARGS, "--out", str(tmp_path), "--seed", "9"])
    assert refused.exit_code == 1 and "--overwrite" in refused.output
    replaced = runner.invoke(cli, [*ARGS, "--out", str(tmp_path), "--seed", "9", "--overwrite"])
    assert replaced.exit_code == 0
    assert json.loads((tmp_path / "_manifest" / "run.json").read_text())["seed"] == 9


def test_bad_arguments_get_a_clear_error(tmp_path):
    runner = CliRunner()
    backwards = runner.invoke(cli, ["generate", "--start", "2026-03-05", "--end", "2026-03-01", "--out", str(tmp_path)])
    assert backwards.exit_code == 2 and "before --start" in backwards.output
    too_dirty = runner.invoke(cli, [*ARGS, "--defects", "0.5", "--out", str(tmp_path)])
    assert too_dirty.exit_code == 2 and "--defects" in too_dirty.output
