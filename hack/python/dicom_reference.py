"""DICOM fixtures and the pixels a model should see in them, for the server's DICOM tests.

Writes, with pydicom, a study per transfer syntax (implicit and explicit VR little endian, deflated,
RLE lossless), photometric interpretation (MONOCHROME1, MONOCHROME2, RGB) and bit depth (8, 12 of 16
signed, 16), each full of made-up PHI; a 2-frame study; and one of each syntax we refuse. Copies in two
studies no test of ours wrote: pydicom's CT (CT_small.dcm) and a computed-radiography chest X-ray from
pydicom-data (RG1_UNCI.dcm). For each it computes, with pydicom (decoding, Modality LUT) and numpy
(the VOI window's linear function, PS3.3 C.11.2.1.2.1; inversion of MONOCHROME1; the model's bilinear
resize with half-pixel centres), the values in [0, 1] the model's input is made from.

Usage: python dicom_reference.py OUT_DIR   (writes OUT_DIR/*.dcm and OUT_DIR/reference.json)
"""
import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_modality_lut
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    RLELossless,
    SecondaryCaptureImageStorage,
)

PHI = {
    "PatientName": "Doe^Jane^Quinn",
    "PatientID": "MRN-7731-0042",
    "PatientBirthDate": "19610203",
    "AccessionNumber": "ACC-558102",
    "InstitutionName": "Saint Example Teaching Hospital",
    "ReferringPhysicianName": "Welby^Marcus",
    "StudyDate": "20260317",
    "OtherPatientIDs": "NHS-943-476-5919",
}


def study(name, syntax, photometric, bits_stored, signed, frames=1, size=16, window=None, rescale=None, seed=0):
    rng = np.random.default_rng(seed)
    spp = 3 if photometric == "RGB" else 1
    bits_allocated = 8 if bits_stored <= 8 else 16
    lo, hi = (-(2 ** (bits_stored - 1)), 2 ** (bits_stored - 1) - 1) if signed else (0, 2 ** bits_stored - 1)
    shape = (frames, size, size, spp) if spp == 3 else (frames, size, size)
    arr = rng.integers(lo, hi + 1, size=shape)
    dtype = {(8, False): np.uint8, (16, False): np.uint16, (16, True): np.int16}[(bits_allocated, signed)]
    arr = arr.astype(dtype)
    if frames == 1:
        arr = arr[0]
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.{seed + 1000}"
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    for k, v in PHI.items():
        setattr(ds, k, v)
    ds.Rows = size
    ds.Columns = size
    ds.SamplesPerPixel = spp
    ds.PhotometricInterpretation = photometric
    if spp == 3:
        ds.PlanarConfiguration = 0
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    if rescale:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    if syntax == RLELossless:
        ds.compress(RLELossless, arr, encoding_plugin="pydicom")
    else:
        ds.PixelData = arr.tobytes()
        ds.file_meta.TransferSyntaxUID = syntax
    return name, ds


def window_values(x, center, width):
    """PS3.3 C.11.2.1.2.1, the linear function, to [0, 1]."""
    c = center - 0.5
    w = max(width, 1) - 1
    if w == 0:
        return np.where(x <= c, 0.0, 1.0)
    return np.where(x <= c - w / 2, 0.0, np.where(x > c + w / 2, 1.0, (x - c) / w + 0.5))


def bilinear(src, out_h, out_w):
    """The server's resize: bilinear with half-pixel centres, clamped at the edges."""
    h, w = src.shape
    fy = np.clip((np.arange(out_h) + 0.5) * (h / out_h) - 0.5, 0, h - 1)
    fx = np.clip((np.arange(out_w) + 0.5) * (w / out_w) - 0.5, 0, w - 1)
    y0 = np.floor(fy).astype(int)
    x0 = np.floor(fx).astype(int)
    y1 = np.minimum(y0 + 1, h - 1)
    x1 = np.minimum(x0 + 1, w - 1)
    dy = (fy - y0)[:, None]
    dx = (fx - x0)[None, :]
    top = src[y0][:, x0] * (1 - dx) + src[y0][:, x1] * dx
    bottom = src[y1][:, x0] * (1 - dx) + src[y1][:, x1] * dx
    return top * (1 - dy) + bottom * dy


def expected(ds, model_window=None, size=None):
    """Each frame's values in [0, 1] (planar for RGB), as the model's input is made from them."""
    arr = ds.pixel_array.astype(np.float64)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames == 1:
        arr = arr[None]
    out = []
    for f in arr:
        if ds.PhotometricInterpretation == "RGB":
            v = np.moveaxis(f, -1, 0) / (2 ** ds.BitsStored - 1)
            out.append(v.reshape(-1).tolist())
            continue
        m = apply_modality_lut(f, ds).astype(np.float64)
        if model_window:
            v = window_values(m, *model_window)
        elif "WindowCenter" in ds and "WindowWidth" in ds:
            wc = ds.WindowCenter
            ww = ds.WindowWidth
            wc = float(wc[0] if isinstance(wc, pydicom.multival.MultiValue) else wc)
            ww = float(ww[0] if isinstance(ww, pydicom.multival.MultiValue) else ww)
            v = window_values(m, wc, ww)
        else:
            v = (m - m.min()) / (m.max() - m.min()) if m.max() > m.min() else np.zeros_like(m)
        if ds.PhotometricInterpretation == "MONOCHROME1":
            v = 1 - v
        if size:
            v = bilinear(v, size, size)
        out.append(v.reshape(-1).tolist())
    return out


def main(out_dir):
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cases = [
        study("implicit-mono2-16.dcm", ImplicitVRLittleEndian, "MONOCHROME2", 16, False, rescale=(1, -1024), window=(40, 400), seed=1),
        study("explicit-mono2-12signed.dcm", ExplicitVRLittleEndian, "MONOCHROME2", 12, True, rescale=(2, 10), seed=2),
        study("explicit-mono1-8.dcm", ExplicitVRLittleEndian, "MONOCHROME1", 8, False, window=(128, 200), seed=3),
        study("deflated-mono2-16.dcm", DeflatedExplicitVRLittleEndian, "MONOCHROME2", 16, False, window=(30000, 20000), seed=4),
        study("rle-mono2-16.dcm", RLELossless, "MONOCHROME2", 16, False, rescale=(1, -1024), window=(40, 400), seed=5),
        study("rle-mono1-12signed.dcm", RLELossless, "MONOCHROME1", 12, True, seed=6),
        study("rle-rgb-8.dcm", RLELossless, "RGB", 8, False, seed=7),
        study("explicit-rgb-8.dcm", ExplicitVRLittleEndian, "RGB", 8, False, seed=8),
        study("explicit-mono2-16-2frame.dcm", ExplicitVRLittleEndian, "MONOCHROME2", 16, False, frames=2, window=(30000, 40000), seed=9),
        study("rle-mono2-8-2frame.dcm", RLELossless, "MONOCHROME2", 8, False, frames=2, seed=10),
    ]
    reference = {"phi": PHI, "files": {}}
    for name, ds in cases:
        path = out / name
        ds.save_as(path, enforce_file_format=True)
        back = pydicom.dcmread(path)
        reference["files"][name] = {
            "syntax": str(back.file_meta.TransferSyntaxUID), "rows": back.Rows, "columns": back.Columns,
            "samples": back.SamplesPerPixel, "frames": expected(back),
            "sopInstanceUidSha256": hashlib.sha256(str(back.SOPInstanceUID).encode()).hexdigest(),
        }
    # Syntaxes we refuse, with a 415 that names them.
    for name, syntax in [("big-endian.dcm", ExplicitVRBigEndian), ("jpeg-baseline.dcm", JPEGBaseline8Bit)]:
        _, ds = study(name, ExplicitVRLittleEndian, "MONOCHROME2", 8, False, seed=11)
        ds.file_meta.TransferSyntaxUID = syntax
        if syntax.is_compressed:
            # Refused by its syntax before any decoding: the fragment need not be a real JPEG.
            ds.PixelData = encapsulate([bytes(ds.PixelData)])
            ds["PixelData"].VR = "OB"
        ds.save_as(out / name, enforce_file_format=True)
        reference["files"][name] = {"syntax": str(syntax), "refused": True}
    # Two studies no test of ours wrote: a CT slice and a computed-radiography chest X-ray.
    ct = Path(get_testdata_file("CT_small.dcm"))
    shutil.copy(ct, out / "CT_small.dcm")
    ds = pydicom.dcmread(ct)
    # A soft-tissue window of the model's own (the file's is kept for the second run).
    reference["files"]["CT_small.dcm"] = {
        "modality": ds.Modality, "rows": ds.Rows, "columns": ds.Columns, "samples": 1,
        "frames": expected(ds, model_window=(40, 400)), "modelWindow": [40, 400],
        "sopInstanceUidSha256": hashlib.sha256(str(ds.SOPInstanceUID).encode()).hexdigest(),
        "phi": [str(ds.PatientName), str(ds.PatientID)],
    }
    xray = Path(get_testdata_file("RG1_UNCI.dcm"))
    shutil.copy(xray, out / "RG1_UNCI.dcm")
    ds = pydicom.dcmread(xray)
    reference["files"]["RG1_UNCI.dcm"] = {
        "modality": ds.Modality, "bodyPart": ds.BodyPartExamined, "photometric": ds.PhotometricInterpretation,
        "rows": ds.Rows, "columns": ds.Columns, "samples": 1, "resizedTo": 64,
        "frames": expected(ds, size=64),
        "sopInstanceUidSha256": hashlib.sha256(str(ds.SOPInstanceUID).encode()).hexdigest(),
        "phi": [str(ds.get("PatientName", "")), str(ds.get("PatientID", ""))],
    }
    # JPEG studies no test of ours wrote: lossless (Process 14 SV1) at 8 and 16 bits, and a baseline
    # YCbCr one; decoded by pydicom's plugins (pylibjpeg-libjpeg, pillow), resized to the model's 64×64.
    for name in ["JPGLosslessP14SV1_1s_1f_8b.dcm", "JPEG-LL.dcm", "SC_rgb_jpeg_dcmtk.dcm", "JPEG-lossy.dcm"]:
        path = Path(get_testdata_file(name))
        shutil.copy(path, out / name)
        ds = pydicom.dcmread(path)
        entry = {"syntax": str(ds.file_meta.TransferSyntaxUID), "rows": ds.Rows, "columns": ds.Columns, "samples": ds.SamplesPerPixel, "resizedTo": 64}
        if ds.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.51":
            entry["refused"] = True
        else:
            if ds.SamplesPerPixel == 3:
                # pydicom gives RGB once the YCbCr is converted: planar, then each plane resized.
                arr = ds.pixel_array.astype(np.float64) / 255
                entry["frames"] = [np.concatenate([bilinear(arr[..., c], 64, 64).reshape(-1) for c in range(3)]).tolist()]
            else:
                entry["frames"] = expected(ds, size=64)
        reference["files"][name] = entry
    (out / "reference.json").write_text(json.dumps(reference))


if __name__ == "__main__":
    main(sys.argv[1])
