"""MLflow: one experiment and one registered model per family, champions by alias.

The store is `MLFLOW_TRACKING_URI` (default: SQLite under $C360_DATA_DIR) with artifacts under
$C360_DATA_DIR/mlartifacts. Aliases, not the deprecated stages: `challenger` marks a newly
registered version until the gate decides, `champion` the version that scores.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import mlflow
import mlflow.pyfunc
import mlflow.sklearn
import pandas as pd
import skops.io
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from c360_core.settings import Settings

CHAMPION, CHALLENGER = "champion", "challenger"
REPO = Path(__file__).resolve().parents[1]


def client(cfg: Settings) -> MlflowClient:
    """A client of the store of `cfg`, which the fluent API (runs, model loading) uses too."""
    exported = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(cfg.mlflow_tracking_uri)
    # set_tracking_uri also exports MLFLOW_TRACKING_URI: undo that, or the next Settings() in this
    # process (another warehouse, another test) would silently share this store
    if exported is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = exported
    return MlflowClient(cfg.mlflow_tracking_uri)


def store_exists(cfg: Settings) -> bool:
    """False for a default SQLite store not created yet: no model was ever trained (and opening it
    would create it, a 10 s schema migration, for nothing)."""
    uri = cfg.mlflow_tracking_uri
    return not uri.startswith("sqlite:///") or Path(uri.removeprefix("sqlite:///")).exists()


def experiment_id(cfg: Settings, name: str) -> str:
    """The family's experiment, created with its artifacts under $C360_DATA_DIR (not ./mlruns), in the store of
    `cfg`, which the runs started after it use too."""
    client(cfg)
    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    cfg.mlflow_artifacts.mkdir(parents=True, exist_ok=True)
    return mlflow.create_experiment(name, artifact_location=(cfg.mlflow_artifacts / name).as_uri())


def git_commit() -> str:
    try:
        found = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return found.stdout.strip()


def version_by_alias(mlc: MlflowClient, model: str, alias: str) -> ModelVersion | None:
    try:
        return mlc.get_model_version_by_alias(model, alias)
    except MlflowException:
        return None  # no such model or alias yet


def version_with_fingerprint(mlc: MlflowClient, model: str, fingerprint: str) -> ModelVersion | None:
    """A version already trained on exactly this data and specification, if any."""
    try:
        versions = mlc.search_model_versions(f"name = '{model}'")
    except MlflowException:
        return None
    return next((v for v in versions if v.tags.get("c360.fingerprint") == fingerprint), None)


def log_model(model, x: pd.DataFrame, output) -> str:
    """Log a fitted model in the active run (skops format, signature, input example); returns its URI."""
    trusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    info = mlflow.sklearn.log_model(
        model,
        name="model",
        signature=infer_signature(x.head(200), output),
        input_example=x.head(3),
        pip_requirements=[f"scikit-learn=={_version('scikit-learn')}", f"skops=={_version('skops')}"],
        skops_trusted_types=trusted,
    )
    return info.model_uri


def log_table(frame: pd.DataFrame, path: str) -> None:
    mlflow.log_text(json.dumps(json.loads(frame.to_json(orient="records")), indent=1), path)


def register(mlc: MlflowClient, model: str, uri: str, tags: dict[str, str]) -> ModelVersion:
    version = mlflow.register_model(uri, model, tags=tags)
    mlc.set_registered_model_alias(model, CHALLENGER, version.version)
    return version


def load(model: str, version: str | int):
    """A registered version of our own registry (loading a model runs its code: we trust only ours)."""
    with _allow_deserialization():
        return mlflow.sklearn.load_model(f"models:/{model}/{version}")


class _Pickled(mlflow.pyfunc.PythonModel):
    """A model object that is not a scikit-learn estimator (the recommender), stored whole as a pyfunc whose
    predict calls the object's own `predict(frame)`."""

    def __init__(self, model) -> None:
        self.model = model

    def predict(self, context, model_input: pd.DataFrame, params=None):
        return self.model.predict(model_input)


def log_object(model, example: pd.DataFrame) -> str:
    """Log a fitted non-scikit-learn model in the active run as a pyfunc; returns its URI."""
    info = mlflow.pyfunc.log_model(name="model", python_model=_Pickled(model), input_example=example,
                                   pip_requirements=[f"scikit-learn=={_version('scikit-learn')}",
                                                     f"scipy=={_version('scipy')}"])  # fmt: skip
    return info.model_uri


def load_object(model: str, version: str | int):
    """The object of a version logged with `log_object` (our own registry only: loading unpickles)."""
    with _allow_deserialization():
        return mlflow.pyfunc.load_model(f"models:/{model}/{version}").unwrap_python_model().model


@contextlib.contextmanager
def _allow_deserialization() -> Iterator[None]:
    before = os.environ.get("MLFLOW_ALLOW_PICKLE_DESERIALIZATION")
    os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", None)
        else:
            os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = before


def _version(package: str) -> str:
    return importlib.metadata.version(package)
