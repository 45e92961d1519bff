"""BG/NBD and Gamma-Gamma ("buy till you die"), fitted by maximum likelihood with scipy.

lifetimes no longer runs on pandas 3 and pymc-marketing brings a compiler-backed stack of ~60
packages (docs/decisions.md), so these are the published likelihoods, written out:

- BG/NBD: Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", eqs. 6, 10 and 11
  (likelihood, expected purchases in a future window, probability alive).
- Gamma-Gamma: Fader, Hardie & Lee (2005), "RFM and CLV", the spend model of section 4.

Inputs per customer, in days: x repeat purchases, t_x the time of the last purchase and T the
age, both measured from the first purchase.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1, logsumexp


def _fit(neg_ll, start: np.ndarray) -> np.ndarray:
    """Minimise over log-parameters, so every parameter stays positive."""
    result = minimize(lambda p: neg_ll(np.exp(p)), np.log(start), method="L-BFGS-B")
    return np.exp(result.x)


@dataclass(frozen=True)
class BGNBD:
    r: float
    alpha: float
    a: float
    b: float

    @staticmethod
    def log_likelihood(params, x, t_x, t) -> np.ndarray:
        r, alpha, a, b = params
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        alive = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t)
        dropped = np.where(
            x > 0,
            betaln(a + 1, np.maximum(b + x - 1, 1e-12)) - betaln(a, b) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
        return common + logsumexp(np.stack([alive, dropped]), axis=0)

    @classmethod
    def fit(cls, x, t_x, t) -> BGNBD:
        x, t_x, t = (np.asarray(v, dtype="float64") for v in (x, t_x, t))
        scale = max(float(np.mean(t)), 1.0)
        params = _fit(lambda p: -cls.log_likelihood(p, x, t_x, t).sum(), np.array([1.0, scale, 1.0, 1.0]))
        return cls(*params)

    def _ratio(self, x, t_x, t):
        """The dropout term of P(alive): (a / (b + x - 1)) * ((alpha + T) / (alpha + t_x))^(r + x)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            term = (self.a / (self.b + x - 1)) * np.exp((self.r + x) * np.log((self.alpha + t) / (self.alpha + t_x)))
        return np.where(x > 0, term, 0.0)

    def p_alive(self, x, t_x, t) -> np.ndarray:
        x, t_x, t = (np.asarray(v, dtype="float64") for v in (x, t_x, t))
        return 1.0 / (1.0 + self._ratio(x, t_x, t))

    def p_no_purchase(self, horizon: float, x, t_x, t) -> np.ndarray:
        """P(no purchase in the next `horizon` days): dropped out, or alive with a Poisson zero.

        Alive, the posterior rate is Gamma(r + x, alpha + T), whose Poisson zero probability over the
        window is ((alpha + T) / (alpha + T + horizon))^(r + x).
        """
        x, t_x, t = (np.asarray(v, dtype="float64") for v in (x, t_x, t))
        alive = self.p_alive(x, t_x, t)
        zero_if_alive = np.exp((self.r + x) * np.log((self.alpha + t) / (self.alpha + t + horizon)))
        return 1.0 - alive + alive * zero_if_alive

    def expected_purchases(self, horizon: float, x, t_x, t) -> np.ndarray:
        x, t_x, t = (np.asarray(v, dtype="float64") for v in (x, t_x, t))
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        z = horizon / (alpha + t + horizon)
        head = (a + b + x - 1) / (a - 1)
        tail = 1 - ((alpha + t) / (alpha + t + horizon)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        return head * tail / (1.0 + self._ratio(x, t_x, t))


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    v: float

    @staticmethod
    def log_likelihood(params, n, mean_value) -> np.ndarray:
        p, q, v = params
        return (
            gammaln(p * n + q) - gammaln(p * n) - gammaln(q) + q * np.log(v)
            + (p * n - 1) * np.log(mean_value) + p * n * np.log(n) - (p * n + q) * np.log(v + n * mean_value)
        )  # fmt: skip

    @classmethod
    def fit(cls, n, mean_value) -> GammaGamma:
        n, m = np.asarray(n, dtype="float64"), np.asarray(mean_value, dtype="float64")
        keep = (n > 0) & (m > 0)
        start = np.array([1.0, 2.0, float(np.mean(m[keep]))])
        return cls(*_fit(lambda prm: -cls.log_likelihood(prm, n[keep], m[keep]).sum(), start))

    def expected_spend(self, n, mean_value) -> np.ndarray:
        """E[spend per purchase | n purchases averaging mean_value]; the population mean for n = 0."""
        n, m = np.asarray(n, dtype="float64"), np.nan_to_num(np.asarray(mean_value, dtype="float64"))
        return (self.p * (self.v + n * m)) / (self.p * n + self.q - 1)
