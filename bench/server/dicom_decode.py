"""pydicom + numpy decoding the same DICOM files as the server (bench/server/dicom.ts): read, pixels,
Modality LUT, the VOI window's linear function to [0, 1], MONOCHROME1 inverted. Prints JSON: ms per file."""
import json
import sys
import time

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut


def decode(path):
    ds = pydicom.dcmread(path)
    m = apply_modality_lut(ds.pixel_array, ds).astype(np.float64)
    c, w = float(ds.get("WindowCenter", 0) or 0), float(ds.get("WindowWidth", 0) or 0)
    if w >= 1:
        c -= 0.5
        w -= 1
        v = np.clip((m - c) / max(w, 1e-9) + 0.5, 0, 1)
    else:
        v = (m - m.min()) / max(m.max() - m.min(), 1e-12)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        v = 1 - v
    return v.astype(np.float32)


out = {}
for path in sys.argv[2:]:
    decode(path)  # warm-up
    n = int(sys.argv[1])
    t0 = time.perf_counter()
    for _ in range(n):
        decode(path)
    out[path] = (time.perf_counter() - t0) * 1000 / n
print(json.dumps(out))
