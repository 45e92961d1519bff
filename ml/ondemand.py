"""On-demand churn scoring: the champion scores one customer from today's features, as the daily scoring
run would (the same model version, the same feature row of the `score` cutoff, the same reasons)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pandas as pd

from c360_core.settings import Settings
from c360_core.warehouse import Warehouse
from ml import churn, registry
from ml import features as feats
from ml.pipeline import FAMILIES, MLError, features_of

RECHECK_SECONDS = 10.0  # a newly promoted champion scores within this long


@dataclass(frozen=True)
class ChurnScore:
    customer_id: str
    churn_probability: float
    churn_risk_band: str
    reasons: list[str]
    model_name: str
    model_version: int
    cutoff_date: str


class NotScorable(Exception):
    """This customer has no score: unknown, or not a buyer (the model is trained on buyers)."""


class OnDemandChurn:
    """The churn champion, loaded once per version. The reasons compare the customer with today's medians,
    as the batch scoring does, so they are computed once per version too."""

    def __init__(self, cfg: Settings) -> None:
        self.cfg = cfg
        self.family = FAMILIES["churn"]
        self._lock = threading.Lock()
        self._loaded: tuple[int, object, list[str], pd.Series] | None = None
        self._asked: tuple[float, object] | None = None  # (when, the champion version then)
        self._client = None

    def _current(self):
        """The champion's registered version, asked of the registry at most every RECHECK_SECONDS."""
        if self._asked is not None and time.monotonic() - self._asked[0] < RECHECK_SECONDS:
            return self._asked[1]
        version = None
        if registry.store_exists(self.cfg):
            self._client = self._client or registry.client(self.cfg)
            version = registry.version_by_alias(self._client, self.family.model_name, registry.CHAMPION)
        self._asked = (time.monotonic(), version)
        return version

    def _champion(self, wh: Warehouse) -> tuple[int, object, list[str], pd.Series]:
        with self._lock:
            version = self._current()
            if version is None:
                raise MLError(f"{self.family.model_name} has no champion: train one "
                              "(c360 materialize --select 'group:ml')")  # fmt: skip
            if self._loaded is None or self._loaded[0] != int(version.version):
                features = features_of(version)
                medians = feats.load(wh, "score")[features].astype("float64").median()
                model = registry.load(self.family.model_name, version.version)
                self._loaded = (int(version.version), model, features, medians)
            return self._loaded

    def score(self, wh: Warehouse, customer_id: str) -> ChurnScore:
        version, model, features, medians = self._champion(wh)
        row = feats.load(wh, "score", customer_id=customer_id)
        if row.empty:
            raise NotScorable(f"{customer_id} is not scored: no such customer, or no counted order before "
                              "today's cutoff (the churn model scores buyers)")  # fmt: skip
        probability = float(model.predict_proba(row[features].astype("float64"))[:, 1][0])
        why = churn.reasons(model, row, features, medians)[0]
        cutoff = feats.cutoffs(wh).dates["score"]
        band = str(churn.risk_band(pd.Series([probability]).to_numpy())[0])
        return ChurnScore(customer_id, probability, band, list(why), self.family.model_name, version, cutoff)
