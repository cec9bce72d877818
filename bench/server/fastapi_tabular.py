"""The tabular baseline: the sepsis-class MLP served the way the seed chapter builds a model server.

FastAPI + uvicorn (one process), a pydantic request of instances (one row of vitals and labs each),
numpy, onnxruntime on CPU, the top class and its probabilities per row. Run:
MODEL_PATH=... LABELS=no_sepsis,sepsis uvicorn fastapi_tabular:app
"""
import os
from typing import List

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="Sepsis Early Warning API")
session = ort.InferenceSession(os.environ["MODEL_PATH"], providers=["CPUExecutionProvider"])
LABELS = os.environ.get("LABELS", "no_sepsis,sepsis").split(",")


class PredictRequest(BaseModel):
    instances: List[List[float]]


@app.get("/health")
def health_check():
    return {"status": "healthy", "model_loaded": True}


@app.post("/predict")
def predict(req: PredictRequest):
    x = np.asarray(req.instances, dtype=np.float32)
    probs = session.run(None, {"input": x})[0]
    out = []
    for row in probs:
        k = int(row.argmax())
        out.append({"label": LABELS[k], "confidence": float(row[k]),
                    "probabilities": {LABELS[i]: float(p) for i, p in enumerate(row)}})
    return {"predictions": out, "model_version": "1.0.0"}
