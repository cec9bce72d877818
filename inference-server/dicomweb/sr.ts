// The model's result as a DICOM Comprehensive SR (PS3.3 A.35.3), written with dcmjs: in the source's
// study (its patient and study modules copied, so the PACS files it there), in a series of its own
// ("AI result", observed by a device: the model), the finding coded with the model's label and its
// probability, inferred from the source instance (referenced), the algorithm identified by name,
// version and sha256 as TID 4019 does. UIDs are derived from the source instance and the model's sha256
// (2.25 + 128 bits of a digest): the same instance and model always make the same SR, so a re-sent
// study replaces the result at the PACS instead of adding a second one.
import { createHash } from 'node:crypto';
import dcmjs from 'dcmjs';
import type { InstanceHeader, PatientStudy } from './instance.js';

dcmjs.log.setLevel('error');

export const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
/** Our coding scheme for the model's labels and its probability (declared in the SR). */
export const SCHEME = '99CLINOPS';

export interface SrInput {
  source: InstanceHeader;
  patientStudy: PatientStudy;
  model: { name: string; version: string; sha256: string };
  label: string;
  probability: number;
  /** When the result was made. */
  at: Date;
}

/** A DICOM UID from a digest of `parts`: 2.25. and the first 128 bits as a decimal (PS3.5 B.2). */
export function derivedUid(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${hex}`).toString()}`;
}

const code = (value: string, scheme: string, meaning: string) => [{ CodeValue: value.slice(0, 16), CodingSchemeDesignator: scheme, CodeMeaning: meaning.slice(0, 64) }];
const text = (rel: string, concept: ReturnType<typeof code>, value: string, children?: object[]) =>
  ({ RelationshipType: rel, ValueType: 'TEXT', ConceptNameCodeSequence: concept, TextValue: value, ...(children ? { ContentSequence: children } : {}) });

/** The label as a code value: at most 16 characters of our scheme, unique per label. */
export function labelCode(label: string): string {
  return /^[A-Za-z0-9_-]{1,16}$/.test(label) ? label : createHash('sha256').update(label).digest('hex').slice(0, 16);
}

export function srUids(source: InstanceHeader, sha256: string): { series: string; instance: string } {
  return { series: derivedUid('clinops-sr-series', source.studyUid, sha256), instance: derivedUid('clinops-sr', source.sopInstanceUid, sha256) };
}

const da = (d: Date) => d.toISOString().slice(0, 10).replace(/-/g, '');
const tm = (d: Date) => d.toISOString().slice(11, 19).replace(/:/g, '');

/** The SR as a DICOM Part 10 file (Explicit VR Little Endian). */
export function writeSr(x: SrInput): Buffer {
  const { source, model } = x;
  const uids = srUids(source, model.sha256);
  const p = x.patientStudy.attributes;
  const attr = (k: string) => p[k] ?? '';
  const person = (k: string) => (attr(k) === '' ? '' : [{ Alphabetic: attr(k) }]);
  const reference = [{ ReferencedSOPClassUID: source.sopClassUid, ReferencedSOPInstanceUID: source.sopInstanceUid }];
  const algorithm = text('HAS CONCEPT MOD', code('111001', 'DCM', 'Algorithm Name'), model.name, [
    text('HAS CONCEPT MOD', code('111003', 'DCM', 'Algorithm Version'), model.version),
    text('HAS CONCEPT MOD', code('111002', 'DCM', 'Algorithm Parameters'), `sha256 ${model.sha256}`),
  ]);
  const dataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    SOPClassUID: COMPREHENSIVE_SR,
    SOPInstanceUID: uids.instance,
    InstanceCreationDate: da(x.at),
    InstanceCreationTime: tm(x.at),
    // Patient and General Study modules: the source's.
    PatientName: person('PatientName'),
    PatientID: attr('PatientID'),
    ...(attr('IssuerOfPatientID') ? { IssuerOfPatientID: attr('IssuerOfPatientID') } : {}),
    PatientBirthDate: attr('PatientBirthDate'),
    PatientSex: attr('PatientSex'),
    StudyInstanceUID: source.studyUid,
    StudyDate: attr('StudyDate'),
    StudyTime: attr('StudyTime'),
    ReferringPhysicianName: person('ReferringPhysicianName'),
    StudyID: attr('StudyID'),
    AccessionNumber: attr('AccessionNumber'),
    ...(attr('StudyDescription') ? { StudyDescription: attr('StudyDescription') } : {}),
    // SR Document Series: a series of its own, described as AI output.
    Modality: 'SR',
    SeriesInstanceUID: uids.series,
    SeriesNumber: 9901,
    SeriesDate: da(x.at),
    SeriesTime: tm(x.at),
    SeriesDescription: `AI result: ${model.name} ${model.version}`.slice(0, 64),
    ReferencedPerformedProcedureStepSequence: [],
    // General Equipment: the software that made it.
    Manufacturer: 'clinops',
    ManufacturerModelName: model.name.slice(0, 64),
    SoftwareVersions: model.version.slice(0, 64),
    // SR Document General.
    InstanceNumber: 1,
    CompletionFlag: 'COMPLETE',
    VerificationFlag: 'UNVERIFIED',
    ContentDate: da(x.at),
    ContentTime: tm(x.at),
    PerformedProcedureCodeSequence: [],
    CurrentRequestedProcedureEvidenceSequence: [{
      StudyInstanceUID: source.studyUid,
      ReferencedSeriesSequence: [{ SeriesInstanceUID: source.seriesUid, ReferencedSOPSequence: reference }],
    }],
    CodingSchemeIdentificationSequence: [{ CodingSchemeDesignator: SCHEME, CodingSchemeName: 'clinops model labels', CodingSchemeResponsibleOrganization: 'clinops' }],
    // SR Document Content: the tree.
    ValueType: 'CONTAINER',
    ConceptNameCodeSequence: code('18748-4', 'LN', 'Diagnostic imaging report'),
    ContinuityOfContent: 'SEPARATE',
    ContentSequence: [
      { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'CODE', ConceptNameCodeSequence: code('121005', 'DCM', 'Observer Type'), ConceptCodeSequence: code('121007', 'DCM', 'Device') },
      { RelationshipType: 'HAS OBS CONTEXT', ValueType: 'UIDREF', ConceptNameCodeSequence: code('121012', 'DCM', 'Device Observer UID'), UID: derivedUid('clinops-device', model.sha256) },
      text('HAS OBS CONTEXT', code('121013', 'DCM', 'Device Observer Name'), model.name),
      text('HAS OBS CONTEXT', code('121014', 'DCM', 'Device Observer Manufacturer'), 'clinops'),
      text('HAS OBS CONTEXT', code('121015', 'DCM', 'Device Observer Model Name'), `${model.name} ${model.version}`),
      {
        RelationshipType: 'CONTAINS', ValueType: 'CONTAINER', ConceptNameCodeSequence: code('121070', 'DCM', 'Findings'), ContinuityOfContent: 'SEPARATE',
        ContentSequence: [{
          RelationshipType: 'CONTAINS', ValueType: 'CODE', ConceptNameCodeSequence: code('121071', 'DCM', 'Finding'), ConceptCodeSequence: code(labelCode(x.label), SCHEME, x.label),
          ContentSequence: [
            {
              RelationshipType: 'HAS PROPERTIES', ValueType: 'NUM', ConceptNameCodeSequence: code('probability', SCHEME, 'Probability'),
              MeasuredValueSequence: [{ MeasurementUnitsCodeSequence: code('1', 'UCUM', 'no units'), NumericValue: Number(x.probability.toPrecision(6)) }],
            },
            algorithm,
            { RelationshipType: 'INFERRED FROM', ValueType: 'IMAGE', ReferencedSOPSequence: reference },
          ],
        }],
      },
    ],
  };
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: COMPREHENSIVE_SR,
    MediaStorageSOPInstanceUID: uids.instance,
    TransferSyntaxUID: EXPLICIT_LE,
    ImplementationClassUID: derivedUid('clinops-implementation'),
    ImplementationVersionName: 'CLINOPS',
  };
  const { DicomMetaDictionary, DicomDict } = dcmjs.data;
  const file = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  file.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return Buffer.from(file.write());
}
