"""NannyML's own CBPE on a data set none of our tests wrote (NannyML's synthetic car-loan data, bundled
with the package), for test/integration/cbpe-nannyml.test.ts. Prints one JSON document: the reference
period's scores and labels, and per analysis chunk the scores, the decisions, NannyML's estimates and the
realized figures (from the targets NannyML ships separately). A last chunk is given a concept shift: the
same cases and scores, a quarter of their labels flipped, so the realized figures fall and no estimate
from scores can follow them."""
import json
import sys

import numpy as np
import nannyml as nml
from sklearn.metrics import recall_score, roc_auc_score

CHUNK = 5000


def realized(y, proba, pred):
    return {
        "roc_auc": float(roc_auc_score(y, proba)),
        "recall": float(recall_score(y, pred)),
        "specificity": float(recall_score(1 - y, 1 - pred)),
    }


def main():
    ref, ana, targets = nml.load_synthetic_car_loan_dataset()
    ana = ana.merge(targets, on="id")
    est = nml.CBPE(y_pred_proba="y_pred_proba", y_pred="y_pred", y_true="repaid",
                   metrics=["roc_auc", "recall", "specificity"], chunk_size=CHUNK, problem_type="classification_binary")
    est.fit(ref)
    result = est.estimate(ana.drop(columns=["repaid"])).filter(period="analysis").to_df()
    chunks = []
    for k in range(len(result)):
        part = ana.iloc[k * CHUNK:(k + 1) * CHUNK]
        y, proba, pred = part["repaid"].to_numpy(), part["y_pred_proba"].to_numpy(), part["y_pred"].to_numpy()
        chunks.append({
            "scores": proba.tolist(), "decided": pred.astype(int).tolist(),
            "nannyml": {m: float(result[(m, "value")].iloc[k]) for m in ("roc_auc", "recall", "specificity")},
            "realized": realized(y, proba, pred),
        })
    # Concept shift: the first chunk's cases, a seeded quarter of their labels flipped.
    part = ana.iloc[:CHUNK]
    y = part["repaid"].to_numpy().copy()
    flip = np.random.default_rng(7).random(len(y)) < 0.25
    y[flip] = 1 - y[flip]
    proba, pred = part["y_pred_proba"].to_numpy(), part["y_pred"].to_numpy()
    concept = {"scores": proba.tolist(), "decided": pred.astype(int).tolist(), "realized": realized(y, proba, pred)}
    json.dump({
        "reference": {"scores": ref["y_pred_proba"].tolist(), "labels": ref["repaid"].astype(int).tolist()},
        "needsCalibration": bool(est.needs_calibration),
        "chunks": chunks,
        "conceptShift": concept,
    }, sys.stdout)


if __name__ == "__main__":
    main()
