"""Next-best channel (docs/ml.md, Next-best channel): for each customer, the traffic channel whose visits are
most likely to end in an order, learnt from their own visits and shrunk towards every customer's.

A customer's conversion rate through a channel is a Beta-binomial posterior mean: (orders from visits
through it + a * the channel's rate over all customers) / (visits through it + a), the prior strength `a`
chosen out of time. The channel with the highest is the customer's next best; its probability of an order
within 30 days is 1 - (1 - rate) ** v, v the customer's visits in 30 days (over the last 90, at least one),
as if they all came through it. A customer with no visit through a channel gets that channel's overall rate:
the shrinkage decides whether their own evidence beats it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

PRIORS = (1.0, 3.0, 10.0)  # the candidate prior strengths, in visits
WINDOW_DAYS = 30


@dataclass(frozen=True)
class ChannelModel:
    prior_strength: float
    rates: dict[str, float]  # every channel's conversion rate over all customers' visits

    def scores(self, visits: pd.DataFrame) -> pd.DataFrame:
        """Per customer and channel: visits, orders and the posterior conversion rate (every channel, for every
        customer with a visit)."""
        seen = visits.groupby(["customer_id", "traffic_channel"])["converted"].agg(["size", "sum"])
        customers = visits["customer_id"].unique()
        grid = pd.MultiIndex.from_product([np.sort(customers), sorted(self.rates)],
                                          names=["customer_id", "traffic_channel"])  # fmt: skip
        table = seen.reindex(grid, fill_value=0).rename(columns={"size": "visits", "sum": "orders"}).reset_index()
        prior = table["traffic_channel"].map(self.rates)
        table["rate"] = (table["orders"] + self.prior_strength * prior) / (table["visits"] + self.prior_strength)
        return table

    def best(self, visits: pd.DataFrame, at: pd.Timestamp) -> pd.DataFrame:
        """Per customer: next_best_channel, purchase_probability_30d, visit_conversion_rate, and the evidence."""
        table = self.scores(visits)
        top = table.sort_values(["customer_id", "rate", "traffic_channel"], ascending=[True, False, True])
        top = top.drop_duplicates("customer_id").set_index("customer_id")
        recent = visits[visits["visited_at"] >= at - pd.Timedelta(days=90)].groupby("customer_id").size()
        per_window = (recent.reindex(top.index, fill_value=0) * WINDOW_DAYS / 90).clip(lower=1.0)
        probability = 1 - (1 - top["rate"]) ** per_window
        reason = [f"{int(o)} of {int(v)} visits through {c} ended in an order (all customers: {self.rates[c]:.1%})"
                  for c, v, o in zip(top["traffic_channel"], top["visits"], top["orders"], strict=True)]  # fmt: skip
        return pd.DataFrame({"customer_id": top.index, "next_best_channel": top["traffic_channel"].to_numpy(),
                             "purchase_probability_30d": probability.to_numpy(), "visit_conversion_rate":
                             top["rate"].to_numpy(), "visits_through_channel": top["visits"].to_numpy(),
                             "reason": reason})  # fmt: skip

    def predict(self, visits: pd.DataFrame) -> pd.DataFrame:
        return self.best(visits, visits["visited_at"].max())


def fit(visits: pd.DataFrame, prior_strength: float) -> ChannelModel:
    rates = visits.groupby("traffic_channel")["converted"].mean()
    return ChannelModel(prior_strength, {str(k): float(v) for k, v in rates.items()})


def most_frequent(visits: pd.DataFrame) -> pd.Series:
    """The baseline: each customer's most frequent channel (ties: alphabetical)."""
    counts = visits.groupby(["customer_id", "traffic_channel"]).size().rename("n").reset_index()
    top = counts.sort_values(["customer_id", "n", "traffic_channel"], ascending=[True, False, True])
    return top.drop_duplicates("customer_id").set_index("customer_id")["traffic_channel"]


def hits(chosen: pd.Series, after: pd.DataFrame) -> float:
    """The share of customers with an order from a visit in `after` whose first such visit came through the
    channel chosen for them (customers without a choice count as misses)."""
    converted = after[after["converted"]].sort_values(["visited_at", "session_id"]).drop_duplicates("customer_id")
    if converted.empty:
        return 0.0
    chosen_for = converted["customer_id"].map(chosen)
    return float((chosen_for == converted["traffic_channel"]).mean())
