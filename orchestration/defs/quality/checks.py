"""Soda contracts as Dagster asset checks: one multi-asset check (one step) per contract file,
except that contracts whose checks read each other's tables (orders and their line items) share one.

Batched contracts (raw.web_events) verify only the rows loaded since their last verification in
ordinary runs; the daily `quality_full` job verifies every row of every contract.

Each contract check becomes an asset check on the matching asset (quality/contracts/raw/customers.yml
-> raw/customers), plus a `quality_score` check carrying the dataset's 0-100 score. They run in every
run that materializes the asset, so each dataset is checked at its own cadence. Blocking checks fail
with ERROR severity and stop downstream assets in the same run; the dbt gate (gate.py) stops them in
later runs too.
"""

import dagster as dg

from c360_core.settings import settings
from orchestration.defs.shared import VERIFY_TAG
from orchestration.lib.alerts import post_alert
from quality.soda import (
    CheckResult,
    Contract,
    DeclaredCheck,
    VerificationError,
    contract_for,
    contracts,
    declared_checks,
)
from quality.verification import Verification, verify_dataset

SCORE_CHECK = "quality_score"
# Run tag: "full" verifies every row of every contract (the daily quality_full job); without it a
# batched contract (raw.web_events) verifies the rows loaded since its last verification.


def _spec(key: dg.AssetKey, check: DeclaredCheck, automated: bool, reads: list[dg.AssetKey]) -> dg.AssetCheckSpec:
    a = check.attributes
    return dg.AssetCheckSpec(
        name=check.id,
        asset=key,
        description=f"{check.name} [{a.get('dimension')}, {check.severity}; spec: {a.get('spec')}]",
        blocking=check.severity == "blocking",
        metadata={"dimension": a.get("dimension", ""), "severity": check.severity, "spec": str(a.get("spec", ""))},
        automation_condition=dg.AutomationCondition.eager() if automated else None,
        # in a run that also materializes these, the check waits for them (an orphan check needs its parent)
        additional_deps=reads,
    )


def _result(key: dg.AssetKey, r: CheckResult) -> dg.AssetCheckResult:
    metadata = {"dimension": r.dimension, "severity": r.severity, "outcome": r.outcome, "spec": r.spec,
                "columns": ", ".join(r.columns)}  # fmt: skip
    if r.failed_rows is not None:
        metadata["failed_rows"] = r.failed_rows
    if r.rows_tested is not None:
        metadata["rows_tested"] = r.rows_tested
    if r.value is not None:
        metadata["value"] = r.value
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=r.check,
        passed=r.passed,
        severity=dg.AssetCheckSeverity.ERROR if r.severity == "blocking" else dg.AssetCheckSeverity.WARN,
        description=r.name if r.passed else f"{r.name}: {r.outcome}" + (
            f" ({r.failed_rows} of {r.rows_tested} rows)" if r.failed_rows else ""),
        metadata=metadata,
    )  # fmt: skip


def _score_result(key: dg.AssetKey, v: Verification) -> dg.AssetCheckResult:
    s = v.scored
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=SCORE_CHECK,
        passed=not v.below_threshold,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"score {s.score:.2f} (minimum {v.min_score:g}); "
        f"{s.checks_failed} of {s.checks_total} checks failed",
        metadata={
            "score": round(s.score, 4),
            "min_score": v.min_score,
            "previous_score": v.previous_score if v.previous_score is not None else -1.0,
            **{f"{d}_score": round(x, 4) for d, x in s.dimensions.items() if x is not None},
            "blocking_failed": ", ".join(s.blocking_failed),
        },
    )


def _alert_if_dropped(context, dataset: str, v: Verification) -> None:
    """Alert when a dataset falls below its minimum score (not again while it stays there)."""
    if not v.below_threshold:
        return
    message = f"{dataset} quality score {v.scored.score:.2f} is below its minimum {v.min_score:g}"
    context.log.warning(message)
    if v.previous_score is not None and v.previous_score < v.min_score:
        return
    url = settings().alert_webhook_url
    if not url:
        return
    payload = {"event": "quality_score_below_threshold", "dataset": dataset, "score": v.scored.score,
               "min_score": v.min_score, "previous_score": v.previous_score,
               "failed_checks": [r.check for r in v.results if not r.passed], "run_id": context.run.run_id}  # fmt: skip
    try:
        post_alert(url, payload)
    except OSError as err:  # a webhook outage must not fail the data run; the log keeps the alert
        context.log.error(f"could not post the quality alert for {dataset} to the webhook: {err}")


def _specs(contract: Contract, reads: list[dg.AssetKey]) -> list[dg.AssetCheckSpec]:
    key = dg.AssetKey(contract.asset_key)
    automated = contract.asset_key[0] != "raw"  # dbt models refresh by automation; their checks follow
    specs = [_spec(key, c, automated, reads) for c in declared_checks(contract)]
    specs.append(dg.AssetCheckSpec(
        name=SCORE_CHECK, asset=key, description="0-100 quality score of the dataset (docs/quality.md)",
        automation_condition=dg.AutomationCondition.eager() if automated else None, additional_deps=reads,
    ))  # fmt: skip
    return specs


def _verify(context, contract: Contract):
    key = dg.AssetKey(contract.asset_key)
    try:
        full = context.run.tags.get(VERIFY_TAG) == "full"  # else a batched contract checks the new rows
        v = verify_dataset(settings(), contract.dataset, context.run.run_id, full=full)
    except VerificationError as err:
        raise dg.Failure(f"Soda could not verify {contract.dataset}: {err}", allow_retries=False) from err
    by_id = {r.check: r for r in v.results}
    for check in declared_checks(contract):
        r = by_id.get(check.id)
        if r is None:  # Soda dropped it (e.g. a query error it only logged): it cannot pass
            r = CheckResult(contract.dataset, check.id, check.name, check.check_type, [], check.dimension,
                            check.severity, "", "not_evaluated")  # fmt: skip
        yield _result(key, r)
    yield _score_result(key, v)
    _alert_if_dropped(context, contract.dataset, v)


def contract_checks(group: list[Contract]) -> dg.AssetChecksDefinition:
    """One step verifying a group of contracts (a group only when their checks read each other's tables)."""
    own = {c.dataset for c in group}
    reads = sorted({d for c in group for d in c.reads()} - own)
    specs = [
        s for c in group for s in _specs(c, [dg.AssetKey(d.split(".")) for d in reads + sorted(own - {c.dataset})])
    ]

    @dg.multi_asset_check(
        specs=specs,
        name="soda_" + "__".join(c.dataset.replace(".", "_") for c in group),
        description="Soda contracts "
        + ", ".join(f"quality/contracts/{c.path.parent.name}/{c.path.name}" for c in group),
        can_subset=True,
    )
    def _checks(context: dg.AssetCheckExecutionContext):
        selected = {k.asset_key for k in context.selected_asset_check_keys}
        for contract in group:
            if dg.AssetKey(contract.asset_key) in selected:
                yield from _verify(context, contract)

    return _checks


def _groups(all_contracts: list[Contract]) -> list[list[Contract]]:
    """Contracts that read each other (orders and their line items) share a step, or their checks
    would each wait for the other's."""
    group_of = {c.dataset: [c] for c in all_contracts}
    for c in all_contracts:
        for other in c.reads():
            if (
                other in group_of
                and c.dataset in contract_for(other).reads()
                and group_of[other] is not group_of[c.dataset]
            ):
                merged = group_of[c.dataset] + group_of[other]
                for member in merged:
                    group_of[member.dataset] = merged
    unique = {id(g): g for g in group_of.values()}
    return sorted(unique.values(), key=lambda g: g[0].dataset)


quality_checks = [contract_checks(group) for group in _groups(contracts())]
