"""Studies for the PACS path's tests, none written by a test of ours: a chest X-ray (pydicom-data's
RG1_UNCI.dcm, computed radiography) and a CT slice (pydicom's CT_small.dcm), copied as they are; a
second and a third X-ray study made from the first with new Study, Series and SOP Instance UIDs (pydicom's
generate_uid); and the patient attributes each carries, for the test to search every output for.

    python pacs_fixtures.py OUT_DIR [COPIES]   -> OUT_DIR/{cr.dcm,cr-2.dcm,cr-3.dcm,ct.dcm,fixtures.json}
                                                 and COPIES more X-ray studies, copy-0.dcm … (the benchmark's)
"""
import json
import shutil
import sys
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
shutil.copy(get_testdata_file("RG1_UNCI.dcm"), out / "cr.dcm")
shutil.copy(get_testdata_file("CT_small.dcm"), out / "ct.dcm")
ds = pydicom.dcmread(out / "cr.dcm")
ds.StudyInstanceUID = generate_uid()
ds.SeriesInstanceUID = generate_uid()
ds.SOPInstanceUID = generate_uid()
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.save_as(out / "cr-2.dcm", enforce_file_format=True)
ds.StudyInstanceUID = generate_uid()
ds.SeriesInstanceUID = generate_uid()
ds.SOPInstanceUID = generate_uid()
ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
ds.save_as(out / "cr-3.dcm", enforce_file_format=True)

for i in range(int(sys.argv[2]) if len(sys.argv) > 2 else 0):
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(out / f"copy-{i}.dcm", enforce_file_format=True)


def phi(path):
    d = pydicom.dcmread(path, stop_before_pixels=True)
    values = [str(d.get(k, "")) for k in ("PatientName", "PatientID", "PatientBirthDate")]
    return {"uids": {"study": d.StudyInstanceUID, "series": d.SeriesInstanceUID, "instance": d.SOPInstanceUID},
            "phi": [v for v in values if len(v) >= 4]}

json.dump({name: phi(out / name) for name in ("cr.dcm", "cr-2.dcm", "cr-3.dcm", "ct.dcm")}, open(out / "fixtures.json", "w"), indent=1)
