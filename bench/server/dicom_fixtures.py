"""The chest X-ray of pydicom-data (RG1_UNCI.dcm, 1841×1955, 16 bits) as the bench decodes it:
uncompressed, deflated and RLE Lossless, written with pydicom into OUT_DIR."""
import sys
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, RLELossless

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
ds = pydicom.dcmread(get_testdata_file("RG1_UNCI.dcm"))
ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.save_as(out / "xray-explicit.dcm", enforce_file_format=True)
d = pydicom.dcmread(out / "xray-explicit.dcm")
d.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
d.save_as(out / "xray-deflated.dcm", enforce_file_format=True)
r = pydicom.dcmread(out / "xray-explicit.dcm")
r.compress(RLELossless, encoding_plugin="pydicom")
r.save_as(out / "xray-rle.dcm", enforce_file_format=True)
print(ds.Rows * ds.Columns)
