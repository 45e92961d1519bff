"""On-demand churn scoring: the champion scores one customer from today's features, as the daily scoring
run would (the same model version, the same feature row of the `score` cutoff, the same reasons)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import pandas as pd
from threadpoolctl import ThreadpoolController

from c360_core.settings import Settings
from c360_core.warehouse import Warehouse
from ml import churn, registry
from ml import features as feats
from ml.pipeline import FAMILIES, MLError, features_of

RECHECK_SECONDS = 10.0  # a newly promoted champion scores within this long
_THREADS = ThreadpoolController()  # found once: each limit() is then ~0.01 ms


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
    as the batch scoring does, so they are computed once per version too, with the score cutoff's date."""

    def __init__(self, cfg: Settings) -> None:
        self.cfg = cfg
        self.family = FAMILIES["churn"]
        self._lock = threading.Lock()
        self._loaded: tuple[int, object, list[str], pd.Series, str] | None = None
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

    def _champion(self, wh: Warehouse) -> tuple[int, object, list[str], pd.Series, str]:
        with self._lock:
            version = self._current()
            if version is None:
                raise MLError(f"{self.family.model_name} has no champion: train one "
                              "(c360 materialize --select 'group:ml')")  # fmt: skip
            if self._loaded is None or self._loaded[0] != int(version.version):
                features = features_of(version)
                medians = feats.load(wh, "score")[features].astype("float64").median()
                model = registry.load(self.family.model_name, version.version)
                cutoff = feats.cutoffs(wh).dates["score"]
                self._loaded = (int(version.version), model, features, medians, cutoff)
            return self._loaded

    def score(self, warehouse: Callable[[], AbstractContextManager[Warehouse]], customer_id: str) -> ChurnScore:
        """`warehouse()` is entered only to read the champion's inputs and the customer's row, so a server
        that takes its one connection in turn holds it for the reads alone, not for the model's arithmetic."""
        with warehouse() as wh:
            version, model, features, medians, cutoff = self._champion(wh)
            row = feats.load(wh, "score", customer_id=customer_id)
        if row.empty:
            raise NotScorable(f"{customer_id} is not scored: no such customer, or no counted order in the "
                              "model's lookback before today's cutoff (the churn model scores those buyers; a "
                              "lapsed buyer has the band 'lapsed' in the daily predictions)")  # fmt: skip
        # one row: the model's thread pool costs more than it saves, and several requests scoring at once
        # would each start one on a 2-core machine (p95 at 4 concurrent requests: 201 ms -> 144 ms)
        with _THREADS.limit(limits=1, user_api="openmp"):
            probability = float(model.predict_proba(row[features].astype("float64"))[:, 1][0])
            why = churn.reasons(model, row, features, medians)[0]
        band = str(churn.risk_band(pd.Series([probability]).to_numpy())[0])
        return ChurnScore(customer_id, probability, band, list(why), self.family.model_name, version, cutoff)
