"""BG/NBD and Gamma-Gamma: data simulated from the models' own stories with known parameters.

The fits must recover the parameters, and the conditional predictions must match what the
simulated customers actually do next (computed here by counting, not by the formulas under test).
"""

import numpy as np
import pytest

from ml.btyd import BGNBD, GammaGamma

R, ALPHA, A, B = 0.8, 30.0, 1.5, 6.0  # purchase rate ~ Gamma(r, alpha), dropout ~ Beta(a, b); days
HORIZON = 90.0


def simulate_bgnbd(n: int, seed: int = 7):
    """Each customer is born with a purchase at 0, buys at rate lambda while alive, and after each
    repeat purchase drops out with probability p (never right after the first: FHL 2005).
    Returns (x, t_x, T) at the cutoff and the number of purchases in the horizon after it."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(R, 1 / ALPHA, n)
    p = rng.beta(A, B, n)
    age = rng.uniform(60, 365, n)
    x, t_x, future = np.zeros(n), np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / lam[i])
            if t > age[i] + HORIZON:
                break
            if t <= age[i]:
                x[i], t_x[i] = x[i] + 1, t
            else:
                future[i] += 1
            if rng.random() < p[i]:
                break
    return x, t_x, age, future


@pytest.fixture(scope="module")
def customers():
    return simulate_bgnbd(12_000)


def test_bgnbd_recovers_the_parameters(customers):
    x, t_x, age, _ = customers
    fitted = BGNBD.fit(x, t_x, age)
    assert fitted.r == pytest.approx(R, rel=0.15)
    assert fitted.alpha == pytest.approx(ALPHA, rel=0.25)
    assert fitted.a == pytest.approx(A, rel=0.35)
    assert fitted.b == pytest.approx(B, rel=0.35)


def test_bgnbd_predicts_what_customers_do_next(customers):
    x, t_x, age, future = customers
    fitted = BGNBD.fit(x, t_x, age)
    expected = fitted.expected_purchases(HORIZON, x, t_x, age)
    no_purchase = fitted.p_no_purchase(HORIZON, x, t_x, age)
    assert expected.mean() == pytest.approx(future.mean(), rel=0.08)
    assert no_purchase.mean() == pytest.approx((future == 0).mean(), abs=0.02)
    # and per group: frequent buyers are predicted to buy more, as they do
    frequent = x >= 3
    assert expected[frequent].mean() == pytest.approx(future[frequent].mean(), rel=0.12)


def test_p_alive_is_one_without_repeat_purchases_and_falls_with_a_long_silence():
    model = BGNBD(R, ALPHA, A, B)
    assert model.p_alive(0, 0, 100) == pytest.approx(1.0)
    assert model.p_alive(5, 95, 100) > model.p_alive(5, 10, 100)


def test_gamma_gamma_recovers_the_spend_model():
    rng = np.random.default_rng(3)
    p, q, v = 4.0, 5.0, 60.0  # per-purchase spend ~ Gamma(p, nu), nu ~ Gamma(q, v)
    n = rng.integers(1, 12, 20_000)
    nu = rng.gamma(q, 1 / v, len(n))
    means = np.array([rng.gamma(p, 1 / nu[i], k).mean() for i, k in enumerate(n)])
    fitted = GammaGamma.fit(n, means)
    assert fitted.p == pytest.approx(p, rel=0.15)
    assert fitted.q == pytest.approx(q, rel=0.2)
    assert fitted.v == pytest.approx(v, rel=0.25)
    # E[spend | data] against the customers' true mean spend p / nu
    truth = p / nu
    assert fitted.expected_spend(n, means).mean() == pytest.approx(truth.mean(), rel=0.05)
