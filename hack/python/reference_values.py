"""Reference values for clinops' statistics, from scipy and numpy.

Writes JSON to stdout: for each case the samples and what scipy.stats.ks_2samp (exact two-sided) and a
numpy PSI per the definition in statistics/psi.ts give; and for the input-drift building blocks,
ks_2samp on raw values beside their bin counts, false_discovery_control (BH), chisquare and gammaincc.
The unit tests compare against it.

    "$(bash hack/python-env.sh test)" hack/python/reference_values.py \
        > test/unit/statistics/fixtures/scipy-reference.json
"""
import json
import sys

import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(20261121)


def r6(a):
    return [round(float(x), 6) for x in a]


def psi_reference(ref, cur, bins):
    ref = np.sort(np.asarray(ref, dtype=float))
    cur = np.asarray(cur, dtype=float)
    edges = np.unique(np.quantile(ref, np.arange(1, bins) / bins))  # linear interpolation (default)
    e = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=len(edges) + 1) / len(ref)
    a = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1) / len(cur)
    e = np.maximum(e, 1e-4)
    a = np.maximum(a, 1e-4)
    return float(np.sum((a - e) * np.log(a / e))), [float(x) for x in edges]


ks_cases = {
    "small equal sizes": (rng.normal(0, 1, 5), rng.normal(0.5, 1, 5)),
    "small unequal sizes": (rng.normal(0, 1, 7), rng.normal(1, 1, 11)),
    "one against many": (rng.normal(0, 1, 1), rng.normal(0, 1, 40)),
    "ties within and across": (np.round(rng.normal(0, 1, 60), 1), np.round(rng.normal(0.2, 1, 45), 1)),
    "identical samples": (np.linspace(0, 1, 50), np.linspace(0, 1, 50)),
    "disjoint samples": (rng.uniform(0, 1, 30), rng.uniform(2, 3, 25)),
    "moderate shift, 1000 vs 1500": (rng.beta(5, 2, 1000), rng.beta(4.5, 2, 1500)),
    "equal sizes 3000": (rng.normal(0, 1, 3000), rng.normal(0.03, 1, 3000)),
    "coprime sizes 2999 vs 2000": (rng.normal(0, 1, 2999), rng.normal(0.05, 1.05, 2000)),
    "no difference, 500 vs 800": (rng.uniform(0, 1, 500), rng.uniform(0, 1, 800)),
}

psi_cases = {
    "identical distributions": (rng.beta(5, 2, 2000), rng.beta(5, 2, 2000), 10),
    "moderate shift": (rng.beta(5, 2, 2000), rng.beta(4, 2, 1500), 10),
    "significant shift": (rng.beta(5, 2, 2000), rng.beta(2, 2, 1500), 10),
    "ties in the reference (merged edges)": (np.round(rng.beta(5, 2, 1000), 1), rng.beta(5, 2, 800), 10),
    "empty bins in the current sample": (rng.uniform(0, 1, 1000), rng.uniform(0.9, 1, 300), 10),
    "values on the edges": (np.repeat(np.arange(5.0), 20), np.array([1.0] * 30 + [2.0] * 30 + [3.5] * 40), 4),
    "twenty bins": (rng.normal(0, 1, 3000), rng.normal(0.2, 1.1, 3000), 20),
}

def lcg_uniform(seed, n):
    """Park–Miller uniforms, exactly reproducible in any language with 53-bit doubles."""
    x, out = seed, []
    for _ in range(n):
        x = (x * 48271) % 2147483647
        out.append(x / 2147483647)
    return np.array(out)


# kstwo.sf over every region its algorithm distinguishes.
kstwo_points = []
for n in [5, 50, 140, 141, 1000, 5000, 100000, 100001, 1000000]:
    xs = [0.8 / n, 0.6, 1 - 0.5 / n] + [float(np.sqrt(t / n)) for t in (0.3, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0)]
    for x in xs:
        if 0 < x < 1:
            kstwo_points.append({"n": n, "x": x, "sf": float(stats.kstwo.sf(x, n))})

# Large samples: asymptotic ks_2samp; samples are LCG uniforms, shifted by exact arithmetic.
large_cases = []
for name, (s1, n1, s2, n2, scale, shift) in {
    "12000 vs 15000, slight shift": (1, 12000, 2, 15000, 1.0, 0.01),
    "200000 per side, no shift": (3, 200000, 4, 200000, 1.0, 0.0),
    "250000 per side, shift": (5, 250000, 6, 250000, 0.998, 0.001),
    "20000 vs 300, small second sample": (7, 20000, 8, 300, 1.0, 0.05),
    "20000 vs 100 (n = 100: the small-n methods)": (9, 20000, 10, 100, 0.9, 0.04),
}.items():
    a = lcg_uniform(s1, n1)
    b = lcg_uniform(s2, n2) * scale + shift
    res = stats.ks_2samp(a, b)
    large_cases.append({"name": name, "seedA": s1, "nA": n1, "seedB": s2, "nB": n2, "scale": scale, "shift": shift,
                        "statistic": float(res.statistic), "pvalue": float(res.pvalue)})

out = {"generated_by": "hack/python/reference_values.py", "scipy": scipy.__version__, "numpy": np.__version__, "ks": [], "psi": []}
for name, (a, b) in ks_cases.items():
    a, b = r6(a), r6(b)
    res = stats.ks_2samp(a, b, method="exact")
    out["ks"].append({"name": name, "a": a, "b": b, "statistic": float(res.statistic), "pvalue": float(res.pvalue)})
for name, (ref, cur, bins) in psi_cases.items():
    ref, cur = r6(ref), r6(cur)
    value, edges = psi_reference(ref, cur, bins)
    out["psi"].append({"name": name, "reference": ref, "current": cur, "bins": bins, "psi": value, "edges": edges})
out["kstwo"] = kstwo_points
out["ks_large"] = large_cases

# Issue 14's building blocks, from their own generator so the cases above stay as they were.
rng2 = np.random.default_rng(20261122)

# Binned KS: raw samples, the reference's quantile edges, and scipy's test on the raw values, which the
# binned bounds must bracket.
binned = []
for name, (a, b, bins) in {
    "no shift, 100 bins": (rng2.normal(0, 1, 2000), rng2.normal(0, 1, 1500), 100),
    "small shift, 100 bins": (rng2.normal(0, 1, 2000), rng2.normal(0.15, 1, 1500), 100),
    "large n, trivial shift, 100 bins": (rng2.normal(0, 1, 20000), rng2.normal(0.02, 1, 20000), 100),
    "coarse bins, shift in spread": (rng2.normal(0, 1, 3000), rng2.normal(0, 1.3, 900), 10),
    "lab values with ties": (np.round(rng2.lognormal(0.5, 0.4, 2500), 1), np.round(rng2.lognormal(0.6, 0.4, 1200), 1), 100),
}.items():
    a, b = r6(a), r6(b)
    edges = np.unique(np.quantile(np.asarray(a), np.arange(1, bins) / bins))
    ca = np.bincount(np.searchsorted(edges, a, side="left"), minlength=len(edges) + 1)
    cb = np.bincount(np.searchsorted(edges, b, side="left"), minlength=len(edges) + 1)
    res = stats.ks_2samp(a, b)
    binned.append({"name": name, "countsA": [int(x) for x in ca], "countsB": [int(x) for x in cb],
                   "statistic": float(res.statistic), "pvalue": float(res.pvalue)})
out["ks_binned"] = binned

bh = []
for name, ps in {
    "ten features, two drifted": [0.0004, 0.2, 0.03, 0.9, 0.011, 0.5, 0.047, 0.76, 0.0031, 0.33],
    "ties and ones": [0.01, 0.01, 1.0, 0.02, 1.0],
    "one signal": [0.04],
    "uniform nulls": [float(x) for x in rng2.uniform(0, 1, 25)],
}.items():
    bh.append({"name": name, "p": ps, "adjusted": [float(x) for x in stats.false_discovery_control(ps, method="bh")]})
out["benjamini_hochberg"] = bh

chi = []
for name, (obs, props) in {
    "labels as in the reference": ([512, 488], [0.5, 0.5]),
    "sepsis rate doubled": ([860, 140], [0.93, 0.07]),
    "three classes, mild shift": ([330, 420, 250], [0.35, 0.4, 0.25]),
    "five classes, strong shift": ([10, 200, 40, 700, 50], [0.2, 0.2, 0.2, 0.2, 0.2]),
}.items():
    n = sum(obs)
    res = stats.chisquare(obs, np.asarray(props) / sum(props) * n)
    chi.append({"name": name, "observed": obs, "proportions": props, "statistic": float(res.statistic), "pvalue": float(res.pvalue)})
out["chi_square"] = chi

from scipy import special
out["gammaincc"] = [{"a": a, "x": x, "q": float(special.gammaincc(a, x))}
                    for a in (0.5, 1, 1.5, 2, 4.5, 10, 50) for x in (0.01, 0.5, 1, 3, 9.5, 30, 120)]
json.dump(out, sys.stdout, separators=(",", ":"))
sys.stdout.write("\n")
