// What the PACS path reads of a DICOM instance before deciding anything: its identity (SOP Class and
// Instance, Study and Series UIDs), what routing looks at (Modality, Body Part Examined, Series
// Description), and — kept apart, for the result's own patient and study modules only — the study's
// patient module (a PACS files the result by it). The header is parsed up to the pixel data and no
// further. A patient attribute never leaves this module but inside `PatientStudy`, which only the SR
// writer opens: never a log line, metric, status, audit record or error.
import { TextDecoder } from 'node:util';
import dicomParser from 'dicom-parser';
import { fail } from '../errors.js';
import { isDicom } from '../preprocess/dicom.js';

export interface InstanceHeader {
  sopClassUid: string;
  sopInstanceUid: string;
  studyUid: string;
  seriesUid: string;
  modality: string;
  bodyPart: string;
  seriesDescription: string;
}

/** The patient and study modules' attributes, by keyword, as text (UTF-8 decoded). Opaque to all but sr.ts. */
export interface PatientStudy {
  readonly attributes: Readonly<Record<string, string>>;
}

/** Copied into the result as the source has them (Type 2: present, maybe empty). */
export const PATIENT_STUDY_TAGS: Readonly<Record<string, string>> = {
  PatientName: 'x00100010', PatientID: 'x00100020', IssuerOfPatientID: 'x00100021', PatientBirthDate: 'x00100030', PatientSex: 'x00100040',
  StudyDate: 'x00080020', StudyTime: 'x00080030', AccessionNumber: 'x00080050', ReferringPhysicianName: 'x00080090',
  StudyID: 'x00200010', StudyDescription: 'x00081030',
};

const UID = /^[0-9]+(\.[0-9]+)*$/;
const DEFLATED = '1.2.840.10008.1.2.1.99';

/** How the bytes of a text attribute are read: the character sets this path copies faithfully. */
function textDecoder(specificCharacterSet: string): TextDecoder | undefined {
  const sets = specificCharacterSet.split('\\').map((s) => s.trim()).filter((s) => s !== '');
  if (sets.length === 0 || (sets.length === 1 && sets[0] === 'ISO_IR 6')) return new TextDecoder('ascii');
  if (sets.length === 1 && sets[0] === 'ISO_IR 100') return new TextDecoder('latin1');
  if (sets.length === 1 && sets[0] === 'ISO_IR 192') return new TextDecoder('utf-8');
  return undefined;
}

export class InstanceError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * The header of one instance of a STOW-RS request. An unreadable instance throws InstanceError with a
 * reason that names DICOM's structure only (never a value).
 */
export function readInstance(bytes: Uint8Array): { header: InstanceHeader; patientStudy: PatientStudy; transferSyntax: string } {
  if (!isDicom(bytes)) throw new InstanceError('not a DICOM Part 10 file (no "DICM" after its 128-byte preamble)');
  let ds: dicomParser.DataSet;
  let transferSyntax: string;
  try {
    const meta = dicomParser.readPart10Header(bytes);
    transferSyntax = (meta.string('x00020010') ?? '').replace(/\0/g, '').trim();
    if (transferSyntax === DEFLATED) throw new InstanceError('Deflated Explicit VR Little Endian is not taken on this path');
    ds = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' } as dicomParser.ParseDicomOptions);
  } catch (err) {
    if (err instanceof InstanceError) throw err;
    const reason = (typeof err === 'string' ? err : err instanceof Error ? err.message : 'unreadable').replace(/^dicomParser\.\w+: /, '').slice(0, 160);
    throw new InstanceError(`unreadable: ${reason}`);
  }
  const text = (tag: string) => (ds.string(tag) ?? '').replace(/\0/g, '').trim();
  const uid = (tag: string, name: string) => {
    const v = text(tag);
    if (v.length > 64 || !UID.test(v)) throw new InstanceError(`${name} ${tag.slice(1)} is missing or not a UID`);
    return v;
  };
  const header: InstanceHeader = {
    sopClassUid: uid('x00080016', 'SOP Class UID'),
    sopInstanceUid: uid('x00080018', 'SOP Instance UID'),
    studyUid: uid('x0020000d', 'Study Instance UID'),
    seriesUid: uid('x0020000e', 'Series Instance UID'),
    modality: text('x00080060').slice(0, 16),
    bodyPart: text('x00180015').slice(0, 64),
    seriesDescription: text('x0008103e').slice(0, 64),
  };
  const charset = text('x00080005');
  const decoder = textDecoder(charset);
  if (!decoder) throw new InstanceError(`Specific Character Set ${charset.slice(0, 64).replace(/[^ -~]/g, '?')} is not one this path copies (ISO_IR 6, 100 or 192)`);
  const attributes: Record<string, string> = {};
  for (const [keyword, tag] of Object.entries(PATIENT_STUDY_TAGS)) {
    const e = ds.elements[tag];
    if (!e || e.length <= 0) {
      attributes[keyword] = '';
      continue;
    }
    attributes[keyword] = decoder.decode(bytes.subarray(e.dataOffset, e.dataOffset + Math.min(e.length, 1024))).replace(/\0/g, '').trim();
  }
  return { header, patientStudy: { attributes }, transferSyntax };
}
