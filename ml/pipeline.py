"""Train, gate and score each model family: the steps Dagster runs as assets (docs/ml.md).

    features (dbt) -> train (MLflow run, new version as `challenger`) -> gate (`champion` alias)
    -> score (the champion's predictions into the warehouse)

A new family (recommendations, forecasting, ...) adds a `Family` entry and its module's `fit`,
`evaluate` and `predict`; the steps here stay as they are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import matplotlib.pyplot as plt
import mlflow
import pandas as pd

from c360_core.settings import Settings
from c360_core.warehouse import arrow_table, connect
from ml import churn, clv, lapsed, predictions, registry, segments
from ml import features as feats
from ml.catalog import SPECS, Spec
from ml.modeling import Trained

MIN_ROWS = 50  # buyers per cutoff below which a family is not trained (5-fold CV, a usable holdout)
MIN_CLASS = 10  # churners and stayers each, per cutoff


class MLError(Exception):
    """A step cannot run on this data; the message says why and what to do."""


class NothingToScore(MLError):
    """No champion, because the data never allowed one (no web visits at all, too short a series): the step
    says why and leaves the table as it was, without failing the run."""


@dataclass(frozen=True)
class Family:
    spec: Spec
    fit: Callable[[pd.DataFrame, pd.DataFrame, list[str], feats.Cutoffs], Trained]
    evaluate: Callable[[object, pd.DataFrame, list[str]], float]
    predict: Callable[[object, pd.DataFrame, list[str]], dict[str, list]]

    def __getattr__(self, name: str):  # key, model_name, table, margin, supervised
        return getattr(self.spec, name)

    @property
    def experiment(self) -> str:
        return self.model_name


def _predict_churn(model, rows: pd.DataFrame, features: list[str]) -> dict[str, list]:
    probability = model.predict_proba(rows[features].astype("float64"))[:, 1]
    why = churn.reasons(model, rows, features, rows[features].astype("float64").median())
    return {"churn_probability": probability.tolist(), "churn_risk_band": churn.risk_band(probability).tolist(),
            **{f"reason_{i + 1}": [r[i] if len(r) > i else None for r in why] for i in range(3)}}  # fmt: skip


def _predict_clusters(model, rows: pd.DataFrame, features: list[str]) -> dict[str, list]:
    ids, cluster_names = segments.assign(model, rows, features)
    return {"cluster_id": [int(i) for i in ids], "cluster_name": cluster_names}


FAMILIES = {
    "churn": Family(SPECS["churn"], lambda t, h, f, c: churn.train(t, h, f, c.horizon_days), churn.evaluate,
                    _predict_churn),
    "clv": Family(SPECS["clv"], lambda t, h, f, c: clv.train(t, h, f, c.horizon_days, c.lookback_days),
                  clv.evaluate, lambda m, r, f: {"predicted_clv": clv.predict(m, r, f).tolist()}),
    "clusters": Family(SPECS["clusters"], lambda t, h, f, c: segments.train(t, f), segments.evaluate,
                       _predict_clusters),
}  # fmt: skip


@dataclass
class Report:
    """What a step did, for the Dagster asset's metadata and the CLI."""

    family: str
    status: str  # trained | unchanged | skipped | promoted | kept | refused | scored
    detail: str = ""
    version: int | None = None
    champion_version: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    info: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _frames(wh, family: Family) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not family.supervised:  # clusters describe today's buyers
        today = feats.load(wh, "score")
        return today, today
    return feats.load(wh, "train", labels=True), feats.load(wh, "holdout", labels=True)


def _too_little(family: Family, train: pd.DataFrame, holdout: pd.DataFrame) -> str | None:
    if len(train) < MIN_ROWS or len(holdout) < MIN_ROWS:
        return (f"too little history: {len(train)} buyers at the train cutoff and {len(holdout)} at the holdout "
                f"cutoff, at least {MIN_ROWS} each are needed (docs/ml.md, 'How much history')")  # fmt: skip
    if family.key == "churn":
        for name, frame in (("train", train), ("holdout", holdout)):
            churned = int(frame["is_churned"].astype(bool).sum())
            if min(churned, len(frame) - churned) < MIN_CLASS:
                return f"the {name} cutoff has {churned} churners of {len(frame)} buyers: too few of one class"
    return None


def _fingerprint(family: Family, train: pd.DataFrame, holdout: pd.DataFrame, columns: list[str]) -> str:
    """Same rows, features and model specification: same fingerprint (and no new version)."""
    label = [c for c in ("is_churned", "future_revenue") if c in train.columns]
    data = feats.fingerprint(train[["customer_id", *columns, *label]], holdout[["customer_id", *columns, *label]])
    module = {"churn": churn, "clv": clv, "clusters": segments}[family.key]
    spec = repr(sorted(module.candidates().items())) if hasattr(module, "candidates") else repr(segments.K_RANGE)
    return hashlib.sha256(f"{data}|{family.margin}|{spec}".encode()).hexdigest()[:16]


# the families that do not read the customer features, by Spec.inputs: the module of their own steps
OWN_STEPS = {
    "events": "ml.recommendations",
    "series": "ml.forecasting",
    "orders": "ml.anomalies",
    "visits": "ml.channels",
}


def _own_steps(key: str):
    """The module whose train, evaluate and score a family uses when it does not read the customer features
    (imported when used: those modules import this one)."""
    module = OWN_STEPS.get(SPECS[key].inputs)
    return importlib.import_module(module) if module else None


def register_or_unchanged(cfg: Settings, spec: Spec, logged: tuple[str, str], metrics: dict[str, float], *,
                          primary: str, info: dict, higher_is_better: bool = False) -> Report:  # fmt: skip
    """After a family's own training run: its model (`logged` is the fingerprint and the logged model's URI)
    registered as `challenger`, or nothing new when a version has the same fingerprint."""
    fingerprint, uri = logged
    mlc = registry.client(cfg)
    champion = registry.version_by_alias(mlc, spec.model_name, registry.CHAMPION)
    champion_version = int(champion.version) if champion else None
    same = registry.version_with_fingerprint(mlc, spec.model_name, fingerprint)
    if same is not None:
        detail = f"same data and configuration as version {same.version}: nothing new to register"
        return Report(spec.key, "unchanged", detail, int(same.version), champion_version, metrics, info)
    tags = {"c360.fingerprint": fingerprint, "c360.primary_metric": primary,
            "c360.higher_is_better": str(higher_is_better), "c360.holdout_metric": str(metrics[primary]),
            "c360.features": ",".join(f"ml.{m}" for m in spec.reads)}  # fmt: skip
    version = registry.register(mlc, spec.model_name, uri, tags)
    detail = f"version {version.version}: out-of-time {primary} {metrics[primary]:.4f}"
    return Report(spec.key, "trained", detail, int(version.version), champion_version, metrics, info)


def champion_to_score(cfg: Settings, spec: Spec, unavailable: str | None = None, hint: str = ""):
    """The family's champion version; without one, NothingToScore when the data cannot train one
    (`unavailable` says why), else an MLError saying how to train one (and `hint`, what it needs)."""
    champion = None
    if registry.store_exists(cfg):
        champion = registry.version_by_alias(registry.client(cfg), spec.model_name, registry.CHAMPION)
    if champion is None and unavailable:
        raise NothingToScore(f"{spec.model_name} is not scored: {unavailable}. {spec.table} is left as it was.")
    if champion is None:
        needs = f"; {hint}" if hint else ""
        raise MLError(f"{spec.model_name} has no champion: no model of it has been trained and promoted yet, so "
                      f"nothing can be scored. Train one: c360 materialize --select 'group:ml' (the weekly "
                      f"ml_training job does it){needs}. {spec.table} is left as it was.")  # fmt: skip
    return champion


def train(cfg: Settings, key: str) -> Report:
    if own := _own_steps(key):
        return own.train(cfg, key)
    family = FAMILIES[key]
    with connect(cfg) as wh:
        cutoffs = feats.cutoffs(wh)
        train_rows, holdout = _frames(wh, family)
    why = _too_little(family, train_rows, holdout) if family.supervised else (
        None if len(train_rows) >= MIN_ROWS else f"too little data: {len(train_rows)} buyers today")  # fmt: skip
    if why:
        return Report(key, "skipped", why, info={"cutoffs": cutoffs.dates})
    chosen = feats.select_features(train_rows)
    fingerprint = _fingerprint(family, train_rows, holdout, chosen.columns)
    mlc = registry.client(cfg)
    data = Data(train_rows, holdout, cutoffs, chosen, fingerprint)
    judged_at = cutoffs.dates.get("holdout" if family.supervised else "score")
    with mlflow.start_run(
        experiment_id=registry.experiment_id(cfg, family.experiment), run_name=f"{key} {judged_at}"
    ) as run:
        trained = family.fit(train_rows, holdout, chosen.columns, cutoffs)
        uri = _log_run(cfg, family, trained, data)
    info = {"groups_used": chosen.groups_used, "groups_absent": chosen.groups_absent, "dropped": chosen.dropped,
            "cutoffs": cutoffs.dates, "fingerprint": fingerprint, "run_id": run.info.run_id,
            "algorithm": trained.params.get("algorithm"), "features": trained.features}  # fmt: skip
    champion = registry.version_by_alias(mlc, family.model_name, registry.CHAMPION)
    champion_version = int(champion.version) if champion else None
    same = registry.version_with_fingerprint(mlc, family.model_name, fingerprint)
    if same is not None:
        detail = f"same data and specification as version {same.version}: nothing new to register"
        return Report(key, "unchanged", detail, int(same.version), champion_version, trained.metrics, info)
    tags = {"c360.fingerprint": fingerprint, "c360.features": ",".join(trained.features),
            "c360.primary_metric": trained.primary_metric, "c360.higher_is_better": str(trained.higher_is_better),
            "c360.holdout_metric": str(trained.metrics[trained.primary_metric])}  # fmt: skip
    version = registry.register(mlc, family.model_name, uri, tags)
    detail = (
        f"version {version.version}: holdout {trained.primary_metric} {trained.metrics[trained.primary_metric]:.4f}"
    )
    return Report(key, "trained", detail, int(version.version), champion_version, trained.metrics, info)


@dataclass(frozen=True)
class Data:
    """The rows a training run saw, and what was chosen from them."""

    train: pd.DataFrame
    holdout: pd.DataFrame
    cutoffs: feats.Cutoffs
    chosen: feats.FeatureSet
    fingerprint: str


def _log_run(cfg: Settings, family: Family, trained: Trained, data: Data) -> str:
    train_rows, holdout, cutoffs, chosen, fingerprint = (
        data.train,
        data.holdout,
        data.cutoffs,
        data.chosen,
        data.fingerprint,
    )
    label = {"churn": churn.LABEL, "clv": clv.LABEL}.get(family.key)
    mlflow.set_tags({"mlflow.source.git.commit": registry.git_commit(), "c360.family": family.key,
                     "c360.fingerprint": fingerprint, "c360.target": cfg.target})  # fmt: skip
    mlflow.log_params({
        **trained.params, "cutoff_train": cutoffs.dates.get("train"), "cutoff_holdout": cutoffs.dates.get("holdout"),
        "cutoff_score": cutoffs.dates.get("score"), "horizon_days": cutoffs.horizon_days,
        "lookback_days": cutoffs.lookback_days, "feature_groups_used": ",".join(chosen.groups_used),
        "feature_groups_absent": ",".join(chosen.groups_absent) or "none", "n_features": len(trained.features),
        "data_fingerprint": fingerprint, "rows_train": len(train_rows), "rows_holdout": len(holdout),
    })  # fmt: skip
    mlflow.log_metrics(trained.metrics)
    for context, frame in (("training", train_rows), ("holdout", holdout)):
        dataset = mlflow.data.from_pandas(frame[["customer_id", *trained.features, *([label] if label else [])]],
                                          name=f"ml.customer_features ({context})", targets=label)  # fmt: skip
        mlflow.log_input(dataset, context=context)
    for name, figure in trained.figures.items():
        mlflow.log_figure(figure, f"plots/{name}")
        plt.close(figure)
    for name, table in trained.tables.items():
        registry.log_table(table, f"tables/{name}")
    mlflow.log_text(json.dumps(chosen.dropped, indent=1), "tables/features_dropped.json")
    x = holdout[trained.features].astype("float64")
    output = family.predict(trained.model, holdout.head(200), trained.features) if not family.supervised else None
    sample_output = trained.model.predict(x.head(200)) if output is None else pd.Series(output["cluster_id"])
    return registry.log_model(trained.model, x, sample_output)


def gate(cfg: Settings, key: str) -> Report:
    """Promote the challenger only if it beats the champion on the same holdout by the family's margin."""
    family = FAMILIES.get(key) or SPECS[key]
    if not registry.store_exists(cfg):
        return Report(key, "kept", "no model has been trained yet")
    mlc = registry.client(cfg)
    challenger = registry.version_by_alias(mlc, family.model_name, registry.CHALLENGER)
    champion = registry.version_by_alias(mlc, family.model_name, registry.CHAMPION)
    champion_version = int(champion.version) if champion else None
    if challenger is None:
        return Report(key, "kept", "no new version to judge", champion_version, champion_version)
    if own := _own_steps(key):  # both judged by the family's own steps, on the same data (without a champion,
        # nothing to compare with: the figure the challenger's training run took on the holdout)
        new, *old = own.evaluate(cfg, key, [challenger, champion]) if champion else [_training_figure(challenger)]
        return _decide(mlc, family, (challenger, champion), new, (old[0], "") if old else (None, "no champion yet"))
    with connect(cfg) as wh:
        _, holdout = _frames(wh, family)
    empty = _without_data(features_of(challenger), holdout)
    if empty:
        why = f"refused: the challenger needs features with no data in the holdout now: {empty}"
        _record(mlc, family, challenger, why, None)
        mlc.delete_registered_model_alias(family.model_name, registry.CHALLENGER)
        return Report(key, "refused", f"version {challenger.version} {why}", int(challenger.version),
                      champion_version)  # fmt: skip
    if champion is None:
        return _decide(mlc, family, (challenger, None), _training_figure(challenger), (None, "no champion yet"))
    new = family.evaluate(registry.load(family.model_name, challenger.version), holdout, features_of(challenger))
    return _decide(mlc, family, (challenger, champion), new, _champion_score(family, champion, holdout))


def _training_figure(version) -> float:
    """The primary figure a version's training run took on the holdout (its tag). Without a champion the gate
    promotes whatever it is, so it does not judge the challenger again: that took 4.4 s for the recommender in
    make demo, where every family's first model is promoted."""
    return float(version.tags["c360.holdout_metric"])


def _decide(mlc, family, versions: tuple, new: float, champion_score: tuple[float | None, str]) -> Report:
    """Promote the challenger (figure `new`) over the champion (its figure, or None and why) by the margin;
    `versions` is (challenger, champion or None)."""
    key, (challenger, champion) = family.key, versions
    champion_version = int(champion.version) if champion else None
    higher = challenger.tags.get("c360.higher_is_better") == "True"
    old, why = champion_score
    if old is None:
        promote = True
    else:
        needed = old * (1 + family.margin) if higher else old * (1 - family.margin)
        promote = new >= needed if higher else new <= needed
        why = f"challenger {new:.4f} vs champion {old:.4f} (needs {'>=' if higher else '<='} {needed:.4f})"
    decision = "promoted" if promote else "rejected"
    _record(mlc, family, challenger, f"{decision}: {why}", (new, old))
    if promote:
        mlc.set_registered_model_alias(family.model_name, registry.CHAMPION, challenger.version)
    mlc.delete_registered_model_alias(family.model_name, registry.CHALLENGER)
    winner = int(challenger.version) if promote else champion_version
    metrics = {"challenger": new, **({"champion": old} if old is not None else {})}
    return Report(key, "promoted" if promote else "kept", f"version {challenger.version} {decision}: {why}",
                  int(challenger.version), winner, metrics)  # fmt: skip


def features_of(version) -> list[str]:
    """The features a registered version was trained on (its tag)."""
    return version.tags["c360.features"].split(",")


def _without_data(features: list[str], frame: pd.DataFrame) -> list[str]:
    """The features a model needs that the frame lacks, or has only nulls for."""
    return [f for f in features if f not in frame.columns or frame[f].isna().all()]


def _champion_score(family: Family, champion, holdout: pd.DataFrame) -> tuple[float | None, str]:
    missing = _without_data(features_of(champion), holdout)
    if missing:
        return None, f"the champion (version {champion.version}) needs features with no data now: {missing}"
    return family.evaluate(registry.load(family.model_name, champion.version), holdout, features_of(champion)), ""


def _record(mlc, family: Family, challenger, decision: str, figures: tuple[float, float | None] | None) -> None:
    """The decision and both figures (none for a refused challenger), on the challenger's run and version."""
    new, old = figures or (None, None)
    if new is not None:
        mlc.log_metric(challenger.run_id, "gate_challenger_metric", new)
    if old is not None:
        mlc.log_metric(challenger.run_id, "gate_champion_metric", old)
    mlc.set_tag(challenger.run_id, "c360.gate_decision", decision)
    mlc.set_model_version_tag(family.model_name, challenger.version, "c360.gate_decision", decision)


def score(cfg: Settings, key: str) -> Report:
    """The champion's predictions for today's buyers, replacing the family's table in one transaction."""
    if own := _own_steps(key):
        return own.score(cfg, key)
    family = FAMILIES[key]
    champion = champion_to_score(
        cfg,
        family.spec,
        hint=f"it needs at least {MIN_ROWS} buyers at the train and "
        "the holdout cutoffs (docs/ml.md, 'How much history')",
    )
    columns = predictions.TABLES[family.table]
    with connect(cfg) as wh:
        cutoffs = feats.cutoffs(wh)
        rows = feats.load(wh, "score")
        features = features_of(champion)
        missing = _without_data(features, rows)
        if missing:
            raise MLError(f"{family.model_name} version {champion.version} needs {missing}, which have no data today; "
                          f"retrain it: c360 materialize --select 'group:ml'")  # fmt: skip
        values = family.predict(registry.load(family.model_name, champion.version), rows, features)
        table = _rows(family, (family.model_name, int(champion.version)), rows["customer_id"].tolist(), values,
                      cutoffs)  # fmt: skip
        added = lapsed.answers(key, wh, cutoffs, set(rows["customer_id"]))
        for extra in added:
            table += _rows(family, (extra.model_name, 0), extra.customers, extra.values, cutoffs)
        predictions.replace(wh, family.table, arrow_table(columns, table))
    also = "".join(f", {len(a.customers):,} by {a.model_name}" for a in added)
    return Report(key, "scored", f"{len(rows):,} customers scored by version {champion.version}{also}",
                  int(champion.version), int(champion.version), info={"rows": len(table)})  # fmt: skip


def _rows(family: Family, model: tuple[str, int], customers: list[str], values: dict[str, list],
          cutoffs) -> list[tuple]:  # fmt: skip
    """The table's rows for `customers`, made by `model` (name, version)."""
    columns = predictions.TABLES[family.table]
    scored_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    fixed = {
        "model_name": model[0], "model_version": model[1], "scored_at": scored_at,
        "cutoff_date": dt.date.fromisoformat(cutoffs.dates["score"]), "horizon_days": cutoffs.horizon_days,
    }  # fmt: skip
    data = {"customer_id": customers, **values}
    return [
        tuple(data[c][i] if c in data else fixed[c] for c in columns)
        for i in range(len(customers))
    ]  # fmt: skip
