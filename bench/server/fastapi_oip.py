"""The FastAPI baseline over the Open Inference Protocol's JSON: the same requests every peer gets.

FastAPI + uvicorn (one process), pydantic models of the OIP v2 request, numpy, one onnxruntime session
on CPU, every output returned as an OIP tensor. Run: MODEL_PATH=... uvicorn fastapi_oip:app
"""
import os
from typing import List, Optional

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI
from pydantic import BaseModel

app = FastAPI(title="OIP v2 baseline")
session = ort.InferenceSession(os.environ["MODEL_PATH"], providers=["CPUExecutionProvider"])
INPUT = session.get_inputs()[0].name
OUTPUTS = [o.name for o in session.get_outputs()]


class Tensor(BaseModel):
    name: str
    shape: List[int]
    datatype: str
    data: List[float]


class InferRequest(BaseModel):
    id: Optional[str] = None
    inputs: List[Tensor]


@app.get("/health")
def health():
    return {"status": "healthy"}


@app.post("/v2/models/{name}/infer")
def infer(name: str, req: InferRequest):
    t = req.inputs[0]
    x = np.asarray(t.data, dtype=np.float32).reshape(t.shape)
    results = session.run(None, {INPUT: x})
    return {
        "model_name": name,
        "outputs": [
            {"name": n, "shape": list(v.shape), "datatype": "FP32", "data": v.ravel().tolist()}
            for n, v in zip(OUTPUTS, results)
        ],
    }
