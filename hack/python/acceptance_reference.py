"""Reference values for clinical acceptance metrics, from scikit-learn, on scores the test hands over.

    python hack/python/acceptance_reference.py CASES.json

CASES.json: {"scores": [P(positive) per case], "actual": [0/1], "predicted": [0/1], "bins": n}.
Prints {"auroc", "sensitivity", "specificity", "ece", "brier"}: roc_auc_score, recall_score for each
class, brier_score_loss, and the expected calibration error from calibration_curve's per-bin fraction
of positives and mean probability, each bin weighted by its share of cases (bins as calibration_curve
makes them: np.linspace(0, 1, n + 1), a value on an inner edge in the lower bin).
"""
import json
import sys

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, recall_score, roc_auc_score


def main(path: str) -> None:
    doc = json.loads(open(path).read())
    p = np.asarray(doc["scores"], dtype=np.float64)
    y = np.asarray(doc["actual"], dtype=np.int64)
    yhat = np.asarray(doc["predicted"], dtype=np.int64)
    bins = int(doc["bins"])
    prob_true, prob_pred = calibration_curve(y, p, n_bins=bins, strategy="uniform")
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=bins)
    counts = counts[counts > 0]
    ece = float(np.sum(counts / len(p) * np.abs(prob_true - prob_pred)))
    print(json.dumps({
        "auroc": float(roc_auc_score(y, p)),
        "sensitivity": float(recall_score(y, yhat, pos_label=1)),
        "specificity": float(recall_score(y, yhat, pos_label=0)),
        "ece": ece,
        "brier": float(brier_score_loss(y, p)),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
