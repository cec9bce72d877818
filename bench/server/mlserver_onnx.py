"""A minimal ONNX runtime for MLServer (Seldon's Open Inference Protocol server), for the peer benchmark.

MLServer ships no ONNX runtime of its own: this is the smallest one a Seldon user would write — one
onnxruntime session on CPU, the first input decoded with MLServer's NumpyCodec, every output returned
as an OIP tensor. Loaded in-process (settings.json: parallel_workers 0, its fastest setting here).
model-settings.json: {"implementation": "mlserver_onnx.OnnxRuntime", "parameters": {"uri": MODEL}}.
"""
import numpy as np
import onnxruntime as ort
from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse


class OnnxRuntime(MLModel):
    async def load(self) -> bool:
        self._session = ort.InferenceSession(self.settings.parameters.uri, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name
        self._outputs = [o.name for o in self._session.get_outputs()]
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        x = NumpyCodec.decode_input(payload.inputs[0]).astype(np.float32, copy=False)
        results = self._session.run(None, {self._input: x})
        return InferenceResponse(
            model_name=self.name,
            outputs=[NumpyCodec.encode_output(name, value) for name, value in zip(self._outputs, results)],
        )
