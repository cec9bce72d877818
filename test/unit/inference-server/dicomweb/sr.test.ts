import dicomParser from 'dicom-parser';
import { readInstance } from '../../../../inference-server/dicomweb/instance.js';
import { COMPREHENSIVE_SR, derivedUid, labelCode, srUids, writeSr } from '../../../../inference-server/dicomweb/sr.js';

const source = { sopClassUid: '1.2.840.10008.5.1.4.1.1.1', sopInstanceUid: '1.2.826.0.1.3680043.8.498.1', studyUid: '1.2.826.0.1.3680043.8.498.2', seriesUid: '1.2.826.0.1.3680043.8.498.3', modality: 'CR', bodyPart: 'CHEST', seriesDescription: '' };
const patientStudy = { attributes: { PatientName: 'Müller^Anna', PatientID: 'MRN-0042', PatientBirthDate: '19610203', PatientSex: 'F', StudyDate: '20261201', StudyTime: '101500', AccessionNumber: 'ACC9', ReferringPhysicianName: '', StudyID: '7' } };
const model = { name: 'pneumonia-cxr', version: '1.2.0', sha256: 'ab'.repeat(32) };

describe('the SR', () => {
  const bytes = writeSr({ source, patientStudy, model, label: 'Pneumonia', probability: 0.912345678, at: new Date('2026-12-05T10:20:30Z') });
  const ds = dicomParser.parseDicom(bytes);

  it('is a Comprehensive SR in the source study, in a series of its own, with the study\'s patient module', () => {
    expect(ds.string('x00080016')).toBe(COMPREHENSIVE_SR);
    expect(ds.string('x00080060')).toBe('SR');
    expect(ds.string('x0020000d')).toBe(source.studyUid);
    expect(ds.string('x0020000e')).not.toBe(source.seriesUid);
    expect(ds.string('x0008103e')).toBe('AI result: pneumonia-cxr 1.2.0');
    expect(ds.string('x00080005')).toBe('ISO_IR 192');
    expect(Buffer.from(bytes.subarray(ds.elements.x00100010!.dataOffset, ds.elements.x00100010!.dataOffset + ds.elements.x00100010!.length)).toString('utf8').trim()).toBe('Müller^Anna');
    expect(ds.string('x00100020')).toBe('MRN-0042');
    expect(ds.string('x00080050')).toBe('ACC9');
  });

  it('reads back through the path\'s own reader (the same UIDs, a known character set)', () => {
    const back = readInstance(bytes);
    expect(back.header).toMatchObject({ sopClassUid: COMPREHENSIVE_SR, studyUid: source.studyUid, modality: 'SR' });
    expect(back.patientStudy.attributes.PatientName).toBe('Müller^Anna');
  });

  it('has the same UIDs for the same instance and model, other ones for another model', () => {
    const again = dicomParser.parseDicom(writeSr({ source, patientStudy, model, label: 'Normal', probability: 0.6, at: new Date() }));
    expect(again.string('x00080018')).toBe(ds.string('x00080018'));
    expect(ds.string('x00080018')).toBe(srUids(source, model.sha256).instance);
    expect(srUids(source, 'cd'.repeat(32)).instance).not.toBe(srUids(source, model.sha256).instance);
    expect(srUids({ ...source, sopInstanceUid: '1.2.3.4' }, model.sha256).series).toBe(srUids(source, model.sha256).series);
  });

  it('makes UIDs DICOM takes: 2.25 and a decimal of 128 bits, at most 64 characters', () => {
    for (const u of [derivedUid('a'), derivedUid('b', 'c'), srUids(source, model.sha256).series]) {
      expect(u).toMatch(/^2\.25\.[1-9][0-9]*$/);
      expect(u.length).toBeLessThanOrEqual(64);
    }
  });

  it('codes a label as itself when it fits, else as a digest of it', () => {
    expect(labelCode('Pneumonia')).toBe('Pneumonia');
    expect(labelCode('No finding (normal study)')).toMatch(/^[0-9a-f]{16}$/);
  });
});
