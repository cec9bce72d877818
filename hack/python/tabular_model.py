"""A tabular clinical model that none of our tests wrote: scikit-learn's gradient boosting on the
Wisconsin diagnostic breast cancer data (bundled with scikit-learn: 569 patients, 30 measurements of
cell nuclei, malignant or benign), exported to ONNX by skl2onnx as a hospital's data science team would.

    python hack/python/tabular_model.py OUTDIR

writes OUTDIR/model.onnx (input [batch, 30] FP32; outputs the label and the probabilities),
OUTDIR/holdout.json (the 40% of patients held out from training, rows in input order) and
OUTDIR/model.json (feature names in input order as snake_case, labels in output order, each feature's
importance in the model, holdout accuracy, scikit-learn's probabilities for the first 20 holdout rows) and
OUTDIR/labelled-holdout.json (the same rows with their diagnoses and a subgroup per row, tumour size: mean
area above or below the training median — the data has no demographics — for `clinops accept`).
Deterministic: fixed split and seed.
"""
import json
import sys
from pathlib import Path

import numpy as np
from skl2onnx import to_onnx
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import train_test_split


def main(out: Path) -> None:
    data = load_breast_cancer()
    x = data.data.astype(np.float32)
    x_train, x_holdout, y_train, y_holdout = train_test_split(x, data.target, test_size=0.4, random_state=0, stratify=data.target)
    model = GradientBoostingClassifier(n_estimators=60, max_depth=2, random_state=0).fit(x_train, y_train)
    onnx = to_onnx(model, x_train[:1], options={id(model): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(onnx.SerializeToString())
    (out / "holdout.json").write_text(json.dumps(x_holdout.tolist()))
    size = data.feature_names.tolist().index("mean area")
    median_area = float(np.median(x_train[:, size]))
    (out / "labelled-holdout.json").write_text(json.dumps({
        "instances": x_holdout.tolist(),
        "labels": [str(data.target_names[y]) for y in y_holdout],
        "subgroup": "tumour size",
        "subgroups": ["large" if row[size] > median_area else "small" for row in x_holdout],
    }))
    (out / "model.json").write_text(json.dumps({
        "features": [name.replace(" ", "_") for name in data.feature_names],
        "labels": [str(label) for label in data.target_names],
        "importances": [float(v) for v in model.feature_importances_],
        "accuracy": float(model.score(x_holdout, y_holdout)),
        "holdout_probabilities": model.predict_proba(x_holdout[:20]).tolist(),
    }))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
