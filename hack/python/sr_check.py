"""Reads an SR the PACS path wrote as a PACS-side tool would: highdicom parses it as a Comprehensive SR,
and its content tree is walked for what the test compares (pacs.test.ts).

    python sr_check.py SR.dcm   -> JSON on stdout
"""
import json
import sys

import highdicom as hd
import pydicom

ds = pydicom.dcmread(sys.argv[1])
sr = hd.sr.ComprehensiveSR.from_dataset(ds)
found = {"sopClassUid": sr.SOPClassUID, "modality": sr.Modality, "study": sr.StudyInstanceUID,
         "series": sr.SeriesInstanceUID, "seriesDescription": sr.get("SeriesDescription", ""),
         "patientName": str(sr.PatientName), "patientId": sr.PatientID, "observer": None, "text": {}}


def walk(items):
    for item in items:
        name = item.ConceptNameCodeSequence[0].CodeMeaning if "ConceptNameCodeSequence" in item else ""
        vt = item.ValueType
        if vt == "TEXT":
            found["text"][name] = item.TextValue
        elif vt == "CODE" and name == "Finding":
            found["finding"] = item.ConceptCodeSequence[0].CodeMeaning
        elif vt == "CODE" and name == "Observer Type":
            found["observer"] = item.ConceptCodeSequence[0].CodeMeaning
        elif vt == "NUM" and name == "Probability":
            found["probability"] = float(item.MeasuredValueSequence[0].NumericValue)
        elif vt == "IMAGE":
            found["references"] = item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
        if "ContentSequence" in item:
            walk(item.ContentSequence)


walk(sr.ContentSequence)
print(json.dumps(found))
