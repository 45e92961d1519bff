"""Product recommendations (docs/ml.md): market-basket rules and item-item collaborative filtering.

Both learn from what happened before a cutoff. A customer's top 10 are judged on that customer's next order
after it (out of time), beside two baselines: the most popular products, and the most popular in the
customer's top category.

- **Rules** `X -> Y` from the orders' baskets: support (share of orders holding both), confidence (share of
  the orders holding X that hold Y) and lift (confidence over Y's own share). Pairs only, counted exactly
  from a sparse orders x products matrix (its Gram matrix counts every pair at once): the Apriori of mlxtend
  needs a dense basket matrix and finds larger itemsets that a top-10 of single products does not use.
- **Item-item collaborative filtering** over implicit feedback: a customer's weight for a product sums
  their views, favourites, cart adds and purchases (FEEDBACK); two products are similar when the same
  customers weigh them (cosine over customers); a customer's score for a product is the similarity-weighted
  sum of their own weights.

The two scores are ranked separately and blended by rank, so neither's scale dominates. A product is
recommended only if it is in the current catalogue and, unless customers buy it again (a repeat product),
not already bought by the customer. The slots the models leave empty are filled with the most popular
products of the customer's favourite category, then overall. Each recommendation carries its reason: the
strongest single thing behind it ("bought with X", "customers who viewed Y", "popular in Z").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

TOP_K = 10
FEEDBACK = {"product_view": 1.0, "add_to_favorite": 2.0, "add_to_cart": 3.0, "purchase": 5.0}
VERB = {"product_view": "viewed", "add_to_favorite": "favourited", "add_to_cart": "added to cart",
        "purchase": "bought"}  # fmt: skip
MINE = {"product_view": "you viewed it", "add_to_favorite": "you favourited it",
        "add_to_cart": "you had it in your cart", "purchase": "you buy it again"}  # fmt: skip
MIN_PAIR_ORDERS = 2  # a rule needs its pair in at least this many orders
NEIGHBOURS = 50  # similar products kept per product
RULES_PER_PRODUCT = 20  # the rules of highest confidence the model keeps per antecedent
REPEAT_SHARE = 0.2  # a product is a repeat purchase when this share of its buyers bought it in 2+ orders
CANDIDATES = 200  # per customer, from each model, before filtering
BLOCK = 2_000  # customers scored at once where a customers x products array is dense
# the blend, tuned on a 10k x 1 year landing zone's holdout (recall@10: collaborative filtering alone 0.225,
# with SELF_WEIGHT 0.278, with the rules at 0.25 0.280, with the taste at 0.25 0.291; popularity 0.181)
RULE_WEIGHT = 0.25  # a rule's rank counts this much against collaborative filtering's in the blend
TASTE_WEIGHT = 0.25  # the customer's category mix times popularity, against collaborative filtering's rank
SELF_WEIGHT = 1.0  # a product's similarity to itself: what a customer viewed and has not bought counts


@dataclass
class Recommender:
    """What fitting learned: the products, their rules and neighbours, the repeat products, popularity."""

    products: np.ndarray  # product ids, the index of every matrix below
    categories: np.ndarray  # each product's category
    names: np.ndarray  # each product's name, for the reasons
    rules: pd.DataFrame  # antecedent, consequent, orders, support, confidence, lift
    neighbours: sparse.csr_matrix  # products x products, the NEIGHBOURS most similar of each row
    repeat: np.ndarray  # bool per product
    popularity: np.ndarray  # orders per product before the cutoff
    rule_weight: float = RULE_WEIGHT
    taste_weight: float = TASTE_WEIGHT

    def predict(self, events: pd.DataFrame) -> pd.DataFrame:
        """The top TOP_K of every customer in `events` (ml.ml_product_events' columns), from those events."""
        purchases, feedback = split(events)
        return recommend(self, purchases, feedback, sorted(events["customer_id"].unique()))


def split(events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ml.ml_product_events as (purchases: customer_id, order_id, product_id, ordered_at; feedback: the
    browsing, customer_id, product_id, event_action)."""
    bought = events["event_action"] == "purchase"
    purchases = events.loc[bought, ["customer_id", "order_id", "product_id", "event_at"]]
    return purchases.rename(columns={"event_at": "ordered_at"}), events.loc[~bought]


def params() -> dict[str, object]:
    """The configuration a fit uses, as MLflow parameters: a change of any is a new model version."""
    return {"algorithm": "rules + item-item cosine + category taste, rank blend", "top_k": TOP_K,
            "feedback_weights": ",".join(f"{k}={v:g}" for k, v in FEEDBACK.items()),
            "min_pair_orders": MIN_PAIR_ORDERS, "neighbours": NEIGHBOURS, "repeat_share": REPEAT_SHARE,
            "rules_per_product": RULES_PER_PRODUCT,
            "rule_weight": RULE_WEIGHT, "taste_weight": TASTE_WEIGHT, "self_weight": SELF_WEIGHT}  # fmt: skip


def association_rules(baskets: pd.DataFrame, min_orders: int = MIN_PAIR_ORDERS) -> pd.DataFrame:
    """Every rule `antecedent -> consequent` between two products in at least `min_orders` orders' baskets
    (`baskets`: order_id, product_id; a product twice in an order counts once)."""
    pairs = baskets[["order_id", "product_id"]].drop_duplicates()
    orders, order_index = np.unique(pairs["order_id"].to_numpy(), return_inverse=True)
    products, product_index = np.unique(pairs["product_id"].to_numpy(), return_inverse=True)
    b = sparse.csr_matrix((np.ones(len(pairs), dtype=np.int32), (order_index, product_index)),
                          shape=(len(orders), len(products)))  # fmt: skip
    together = (b.T @ b).tocoo()
    alone = np.asarray(b.sum(axis=0)).ravel()
    keep = (together.row != together.col) & (together.data >= min_orders)
    x, y, n = together.row[keep], together.col[keep], together.data[keep]
    confidence = n / alone[x]
    rules = pd.DataFrame({
        "antecedent": products[x], "consequent": products[y], "orders": n.astype(np.int64),
        "support": n / len(orders), "confidence": confidence, "lift": confidence / (alone[y] / len(orders)),
    })  # fmt: skip
    return rules.sort_values(["antecedent", "confidence", "consequent"], ascending=[True, False, True],
                             ignore_index=True)  # fmt: skip


def _positions(ids: np.ndarray, values: pd.Series) -> np.ndarray:
    """Where each of `values` (all present) sits in `ids` (sorted, unique): by hashing the strings, where
    np.searchsorted compares Python objects (1.4 s of 8.5 s recommending for make demo's 9,520 customers)."""
    return pd.Index(ids).get_indexer(values)


def feedback_matrix(feedback: pd.DataFrame, customers: np.ndarray, products: np.ndarray) -> sparse.csr_matrix:
    """customers x products: the summed FEEDBACK weights of each customer's events (customer_id, product_id,
    event_action) on the given products."""
    known = feedback[feedback["product_id"].isin(products) & feedback["customer_id"].isin(customers)]
    rows = _positions(customers, known["customer_id"])
    cols = _positions(products, known["product_id"])
    weights = known["event_action"].map(FEEDBACK).fillna(0.0).to_numpy(dtype="float64")
    return sparse.csr_matrix((weights, (rows, cols)), shape=(len(customers), len(products)))


def item_neighbours(matrix: sparse.csr_matrix, keep: int = NEIGHBOURS) -> sparse.csr_matrix:
    """products x products cosine similarity over customers, each row cut to its `keep` largest others, and
    SELF_WEIGHT on the diagonal."""
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=0)).ravel())
    scaled = matrix @ sparse.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0))
    similarity = (scaled.T @ scaled).tocsr()
    similarity.setdiag(0.0)
    similarity.eliminate_zeros()
    rows, cols, values = [], [], []
    for i in range(similarity.shape[0]):
        start, end = similarity.indptr[i], similarity.indptr[i + 1]
        if end == start:
            continue
        top = np.argsort(-similarity.data[start:end], kind="stable")[:keep]
        rows.append(np.full(len(top), i))
        cols.append(similarity.indices[start:end][top])
        values.append(similarity.data[start:end][top])
    kept = sparse.lil_matrix(similarity.shape)
    if rows:
        kept = sparse.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
                                 shape=similarity.shape).tolil()  # fmt: skip
    kept.setdiag(SELF_WEIGHT)
    return kept.tocsr()


def repeat_products(purchases: pd.DataFrame, share: float = REPEAT_SHARE) -> set:
    """Products that customers buy again: at least `share` of their buyers bought them in two or more orders."""
    orders = purchases.groupby(["product_id", "customer_id"])["order_id"].nunique()
    again = (orders >= 2).groupby(level="product_id").mean()
    return set(again[again >= share].index)


def _with_purchases(purchases: pd.DataFrame, feedback: pd.DataFrame) -> pd.DataFrame:
    """The browsing and the purchases as one frame of (customer_id, product_id, event_action)."""
    bought = purchases[["customer_id", "product_id"]].assign(event_action="purchase")
    return pd.concat([feedback[["customer_id", "product_id", "event_action"]], bought], ignore_index=True)


def fit(purchases: pd.DataFrame, feedback: pd.DataFrame, catalog: pd.DataFrame, *, rule_weight: float = RULE_WEIGHT,
        taste_weight: float = TASTE_WEIGHT, rules: pd.DataFrame | None = None) -> Recommender:  # fmt: skip
    """Learn from `purchases` (customer_id, order_id, product_id), `feedback` (customer_id, product_id,
    event_action: web events; purchases are added as `purchase`) and `catalog` (product_id,
    product_name, product_category: the products on sale now). `rules`: association_rules(purchases),
    when the caller has them already."""
    products = np.sort(catalog["product_id"].unique())
    by_id = catalog.drop_duplicates("product_id").set_index("product_id").reindex(products)
    customers = np.sort(pd.concat([purchases["customer_id"], feedback["customer_id"]]).dropna().unique())
    events = _with_purchases(purchases, feedback)
    rules = association_rules(purchases) if rules is None else rules
    popularity = purchases.drop_duplicates(["order_id", "product_id"])["product_id"].value_counts()
    return Recommender(
        products=products,
        categories=by_id["product_category"].to_numpy(),
        names=by_id["product_name"].to_numpy(),
        rules=_strongest_rules(_in_catalog(rules, products)),
        neighbours=item_neighbours(feedback_matrix(events, customers, products)),
        repeat=np.isin(products, list(repeat_products(purchases))),
        popularity=popularity.reindex(products, fill_value=0).to_numpy(dtype="float64"),
        rule_weight=rule_weight,
        taste_weight=taste_weight,
    )


def recommend(model: Recommender, purchases: pd.DataFrame, feedback: pd.DataFrame, customers: list[str],
              k: int = TOP_K) -> pd.DataFrame:  # fmt: skip
    """The top `k` products for each of `customers` from their history (the same frames as `fit`, up to
    the moment of recommending): customer_id, rank, product_id, score, reason. BLOCK customers at a time,
    so that memory stays flat however many there are."""
    ids = np.sort(np.asarray(customers, dtype=object))
    events = _with_purchases(purchases, feedback)
    events = events[events["customer_id"].isin(ids)].sort_values("customer_id", kind="stable")
    owners = purchases[purchases["customer_id"].isin(ids)].sort_values("customer_id", kind="stable")
    event_keys, owner_keys = events["customer_id"].to_numpy(), owners["customer_id"].to_numpy()
    out: list[tuple] = []
    for start in range(0, len(ids), BLOCK):
        block = ids[start : start + BLOCK]
        low, high = block[0], block[-1]
        these = events.iloc[np.searchsorted(event_keys, low) : np.searchsorted(event_keys, high, side="right")]
        theirs = owners.iloc[np.searchsorted(owner_keys, low) : np.searchsorted(owner_keys, high, side="right")]
        out += _recommend_block(model, theirs, these, block, k)
    return pd.DataFrame(out, columns=["customer_id", "rank", "product_id", "score", "reason"])


def _recommend_block(model: Recommender, purchases: pd.DataFrame, events: pd.DataFrame, ids: np.ndarray,
                     k: int) -> list[tuple]:  # fmt: skip
    products = model.products
    weights = feedback_matrix(events, ids, products)
    cf = (weights @ model.neighbours.T).tocsr()
    taste = _taste_scores(model, weights)
    owned = feedback_matrix(events[events["event_action"] == "purchase"], ids, products).tocsr()
    rules = _rule_scores(model, purchases, ids)
    favourite = _favourite_categories(model, owned)
    strongest = _strongest_events(events, ids, products)
    order = _by_popularity(model)
    out = []
    for i, customer in enumerate(ids):
        mine = owned.indices[owned.indptr[i] : owned.indptr[i + 1]]
        excluded = set(mine[~model.repeat[mine]].tolist())
        ranked = _blend(_top(cf, i), rules.get(i, {}), excluded, taste[i], (model.rule_weight, model.taste_weight))
        picks = ranked[:k]
        chosen = {p for p, _, _ in picks}
        if len(picks) < k:
            picks += _fill(model, favourite[i], excluded | chosen, k - len(picks), order)
        for rank, (p, score, source) in enumerate(picks, start=1):
            if source is None:  # from collaborative filtering: the customer's strongest event on a neighbour
                why = _cf_reason(model, weights, i, p, strongest)
            elif source.startswith("rule:"):
                why = f"bought with {model.names[int(source.removeprefix('rule:'))]}"
            elif source.startswith("taste:"):
                why = f"popular in {model.categories[p]}, a category you like"
            else:
                why = source
            out.append((customer, rank, products[p], float(score), why))
    return out


def _first_k(values: np.ndarray, k: int) -> np.ndarray:
    """The positions of `values`' k largest, in the order `np.argsort(-values, kind="stable")[:k]` gives them
    (ties by position), without sorting the whole array: a partition finds the k-th value, and only the
    positions above it and the first ties at it are sorted."""
    if len(values) <= k:
        return np.argsort(-values, kind="stable")
    kth = np.partition(values, len(values) - k)[len(values) - k]
    above, at = np.flatnonzero(values > kth), np.flatnonzero(values == kth)
    chosen = np.concatenate([above, at[: k - len(above)]])
    return chosen[np.lexsort((chosen, -values[chosen]))]


def _top(scores: sparse.csr_matrix, i: int) -> list[tuple[int, float]]:
    start, end = scores.indptr[i], scores.indptr[i + 1]
    data = scores.data[start:end]
    order = _first_k(data, CANDIDATES)
    return list(zip(scores.indices[start:end][order].tolist(), data[order].tolist(), strict=True))


def _rule_scores(model: Recommender, purchases: pd.DataFrame, ids: np.ndarray) -> dict[int, dict[int, tuple]]:
    """Per customer: each consequent of a rule whose antecedent they bought, with its best confidence and
    that rule's antecedent."""
    if model.rules.empty or purchases.empty:
        return {}
    owned = purchases[["customer_id", "product_id"]].drop_duplicates()
    owned = owned[owned["customer_id"].isin(ids)]
    hits = owned.merge(model.rules, left_on="product_id", right_on="antecedent")
    hits = hits.sort_values(["customer_id", "consequent", "confidence", "antecedent"],
                            ascending=[True, True, False, True])  # fmt: skip
    hits = hits.drop_duplicates(["customer_id", "consequent"])
    rows = _positions(ids, hits["customer_id"])
    consequents = _positions(model.products, hits["consequent"])
    antecedents = _positions(model.products, hits["antecedent"])
    found: dict[int, dict[int, tuple]] = {}
    for r, c, a, conf in zip(rows, consequents, antecedents, hits["confidence"].to_numpy(), strict=True):
        found.setdefault(int(r), {})[int(c)] = (float(conf), int(a))
    return found


def _strongest_rules(rules: pd.DataFrame, keep: int = RULES_PER_PRODUCT) -> pd.DataFrame:
    """Each antecedent's `keep` rules of highest confidence (association_rules sorts them so): a customer's
    products times every rule of each would not fit in memory at 100,000 customers."""
    return rules.groupby("antecedent", sort=False).head(keep).reset_index(drop=True)


def _in_catalog(rules: pd.DataFrame, products: np.ndarray) -> pd.DataFrame:
    """The rules between two products on sale now (the others can neither be recommended nor named)."""
    return rules[rules["antecedent"].isin(products) & rules["consequent"].isin(products)].reset_index(drop=True)


def _taste_scores(model: Recommender, weights: sparse.csr_matrix) -> list[list[int]]:
    """Per customer, the CANDIDATES products ranked by their category's share of the customer's weight times
    the product's popularity (none for a customer without any)."""
    categories, index = np.unique(model.categories.astype(str), return_inverse=True)
    onehot = sparse.csr_matrix((np.ones(len(index)), (np.arange(len(index)), index)),
                               shape=(len(index), len(categories)))  # fmt: skip
    mix = np.asarray((weights @ onehot).todense())
    totals = mix.sum(axis=1, keepdims=True)
    mix = np.divide(mix, totals, out=np.zeros_like(mix), where=totals > 0)
    popularity = model.popularity / max(model.popularity.max(), 1.0)
    out: list[list[int]] = []
    for start in range(0, len(mix), BLOCK):  # customers x products, a block at a time
        scores = mix[start : start + BLOCK][:, index] * popularity
        for row in scores:
            top = _first_k(row, CANDIDATES)
            out.append(top[row[top] > 0].tolist())
    return out


def _blend(cf: list[tuple[int, float]], rules: dict[int, tuple], excluded: set, taste: list[int],
           weights: tuple[float, float]) -> list[tuple]:  # fmt: skip
    """Both models' candidates by reciprocal rank (a product both rank high comes first), the reason from
    the model that ranks it higher; ties by product index."""
    rule_weight, taste_weight = weights
    rule_rank = sorted(rules, key=lambda p: (-rules[p][0], p))
    score: dict[int, float] = {}
    reason: dict[int, tuple[float, str | None]] = {}
    for rank, (p, _) in enumerate(cf, start=1):
        score[p] = score.get(p, 0.0) + 1.0 / (rank + 1)
        reason[p] = (1.0 / (rank + 1), None)
    for rank, p in enumerate(rule_rank[:CANDIDATES], start=1):
        score[p] = score.get(p, 0.0) + rule_weight / (rank + 1)
        if p not in reason or rule_weight / (rank + 1) > reason[p][0]:
            reason[p] = (rule_weight / (rank + 1), f"rule:{rules[p][1]}")
    for rank, p in enumerate(taste, start=1):
        score[p] = score.get(p, 0.0) + taste_weight / (rank + 1)
        if p not in reason or taste_weight / (rank + 1) > reason[p][0]:
            reason[p] = (taste_weight / (rank + 1), f"taste:{p}")
    order = sorted((p for p in score if p not in excluded), key=lambda p: (-score[p], p))
    return [(p, score[p], reason[p][1]) for p in order]


def _favourite_categories(model: Recommender, owned: sparse.csr_matrix) -> list[str | None]:
    """Each customer's most bought category (ties: the first by name), None for a customer with no order."""
    out = []
    for i in range(owned.shape[0]):
        cats = model.categories[owned.indices[owned.indptr[i] : owned.indptr[i + 1]]]
        if len(cats) == 0:
            out.append(None)
            continue
        values, counts = np.unique(cats, return_counts=True)
        out.append(str(values[np.argmax(counts)]))
    return out


def _by_popularity(model: Recommender) -> np.ndarray:
    return np.argsort(-model.popularity, kind="stable")


def _fill(model: Recommender, category: str | None, excluded: set, n: int, order: np.ndarray) -> list:
    """The `n` most popular products of `category`, then overall, not in `excluded`; `order` is the products
    by popularity (_by_popularity, once per block of customers)."""
    picks = []
    for scope in ([category] if category is not None else []) + [None]:
        for p in order:
            if len(picks) == n:
                return picks
            if p in excluded or any(p == q for q, _, _ in picks):
                continue
            if scope is not None and model.categories[p] != scope:
                continue
            why = f"popular in your favourite category, {scope}" if scope is not None else "popular now"
            picks.append((int(p), 0.0, why))
    return picks


def _strongest_events(events: pd.DataFrame, ids: np.ndarray, products: np.ndarray) -> dict[tuple[int, int], str]:
    """(customer index, product index) -> the customer's heaviest action on that product."""
    known = events[events["customer_id"].isin(ids) & events["product_id"].isin(products)].copy()
    known["weight"] = known["event_action"].map(FEEDBACK)
    known = known.sort_values("weight", ascending=False, kind="stable").drop_duplicates(["customer_id", "product_id"])
    keys = zip(_positions(ids, known["customer_id"]), _positions(products, known["product_id"]), strict=True)
    return {(int(c), int(p)): a for (c, p), a in zip(keys, known["event_action"], strict=True)}


def _cf_reason(model: Recommender, weights: sparse.csr_matrix, i: int, p: int, strongest: dict) -> str:
    """The customer's product that contributes most to `p`'s score: `p` itself ("you viewed it"), or another
    ("customers who viewed Y also chose it"); ties: the lowest product index. Read off `p`'s row of the
    neighbours (sorted, sparse) against the customer's products, not by indexing the sparse matrix per pair
    (that took 40% of recommending)."""
    start, end = weights.indptr[i], weights.indptr[i + 1]
    mine, mass = weights.indices[start:end], weights.data[start:end]
    row = slice(model.neighbours.indptr[p], model.neighbours.indptr[p + 1])
    cols, values = model.neighbours.indices[row], model.neighbours.data[row]
    at = np.minimum(np.searchsorted(mine, cols), len(mine) - 1)
    shared = mine[at] == cols
    contribution = values[shared] * mass[at[shared]]
    j = int(cols[shared][np.argmax(contribution)]) if len(contribution) and contribution.max() > 0 else int(mine[0])
    action = strongest.get((i, j), "product_view")
    return MINE[action] if j == p else f"customers who {VERB[action]} {model.names[j]} also chose it"


def baselines(model: Recommender, purchases: pd.DataFrame, customers: list[str], k: int = TOP_K) -> dict:
    """The two baselines' top `k` (the same exclusions as the model's): the most popular products, and the
    most popular of the customer's favourite category (then overall)."""
    ids = np.sort(np.asarray(customers, dtype=object))
    bought = purchases[["customer_id", "product_id"]].assign(event_action="purchase")
    owned = feedback_matrix(bought, ids, model.products).tocsr()
    favourite = _favourite_categories(model, owned)
    out: dict[str, list] = {"popularity": [], "category popularity": []}
    order = _by_popularity(model)
    for i, customer in enumerate(ids):
        mine = owned.indices[owned.indptr[i] : owned.indptr[i + 1]]
        excluded = set(mine[~model.repeat[mine]].tolist())
        for name, category in (("popularity", None), ("category popularity", favourite[i])):
            picks = _fill(model, category, excluded, k, order)
            out[name] += [(customer, r, model.products[p], s, why) for r, (p, s, why) in enumerate(picks, start=1)]
    columns = ["customer_id", "rank", "product_id", "score", "reason"]
    return {name: pd.DataFrame(rows, columns=columns) for name, rows in out.items()}


def next_orders(purchases: pd.DataFrame) -> dict[str, set]:
    """Each customer's first order in `purchases` (customer_id, order_id, product_id, ordered_at): its
    products, what a top-k is judged on."""
    first = purchases.sort_values(["ordered_at", "order_id"]).drop_duplicates("customer_id")["order_id"]
    chosen = purchases[purchases["order_id"].isin(first)]
    return {c: set(p) for c, p in chosen.groupby("customer_id")["product_id"]}


def judge(recommended: pd.DataFrame, truth: dict[str, set], k: int = TOP_K) -> dict[str, float]:
    """recall@k, precision@k and NDCG@k (binary relevance), averaged over the customers of `truth` (a
    customer without recommendations scores 0)."""
    lists = recommended.sort_values(["customer_id", "rank"]).groupby("customer_id")["product_id"].apply(list)
    recall, precision, ndcg = [], [], []
    for customer, wanted in truth.items():
        top = lists.get(customer, [])[:k]
        hits = [p in wanted for p in top]
        recall.append(sum(hits) / len(wanted))
        precision.append(sum(hits) / k)
        ideal = sum(1 / np.log2(r + 2) for r in range(min(k, len(wanted))))
        ndcg.append(sum(1 / np.log2(r + 2) for r, hit in enumerate(hits) if hit) / ideal)
    return {f"recall_at_{k}": float(np.mean(recall)), f"precision_at_{k}": float(np.mean(precision)),
            f"ndcg_at_{k}": float(np.mean(ndcg))}  # fmt: skip
