import { DicomIntake, FAILURE } from '../../../../inference-server/dicomweb/intake.js';
import { writeSr } from '../../../../inference-server/dicomweb/sr.js';
import { JobStore } from '../../../../inference-server/jobs/job-store.js';
import { ServerMetrics } from '../../../../inference-server/metrics.js';
import type { Predictor } from '../../../../inference-server/predictor.js';

// Instances to take: DICOM files of our own SR writer (any DICOM Part 10 file does), one per UID.
const instance = (n: number) => writeSr({
  source: { sopClassUid: '1.2.840.10008.5.1.4.1.1.1', sopInstanceUid: `1.2.826.0.1.3680043.8.498.${n}`, studyUid: '1.2.826.0.1.3680043.8.498.1000', seriesUid: '1.2.826.0.1.3680043.8.498.2000', modality: 'CR', bodyPart: 'CHEST', seriesDescription: '' },
  patientStudy: { attributes: { PatientName: 'Doe^Jane', PatientID: 'MRN-7' } },
  model: { name: 'source', version: '1', sha256: String(n).padStart(64, '0') }, label: 'x', probability: 0.5, at: new Date(0),
});

function intake(o: { maxQueuedBytes?: number; predict?: () => Promise<unknown>; perKey?: number } = {}) {
  const jobs = new JobStore({ capacity: 100, ttlMs: 60_000, idle: () => true, ...(o.perKey ? { perKey: o.perKey } : {}) });
  const logs: string[] = [];
  const predicted: number[] = [];
  const predictor = {
    predictImages: async (images: Uint8Array[]) => {
      predicted.push(images[0]!.length);
      if (o.predict) return o.predict();
      return { predictions: [{ id: 'p', label: 'Pneumonia', confidence: 0.8, probabilities: { Normal: 0.2, Pneumonia: 0.8 } }] };
    },
  } as unknown as Predictor;
  const i = new DicomIntake({
    model: { name: 'm', version: '1', sha256: 'ab'.repeat(32) }, accept: {}, destination: undefined, jobs, metrics: new ServerMetrics('m'),
    predictor: () => predictor, log: (_level, msg) => logs.push(msg), ...(o.maxQueuedBytes ? { maxQueuedBytes: o.maxQueuedBytes } : {}),
  });
  return { i, jobs, logs, predicted };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('DicomIntake', () => {
  it('takes an instance once: sent again, it is acknowledged and not inferred again', async () => {
    const { i, jobs, predicted } = intake();
    const part = { type: 'application/dicom', bytes: instance(1) };
    expect(i.store([part], null).stored).toHaveLength(1);
    await settle();
    expect(i.store([part], null)).toEqual({ stored: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.88.33', sopInstanceUid: expect.any(String) }], failed: [] });
    await settle();
    expect(predicted).toHaveLength(1);
    expect(i.snapshot()).toMatchObject({ received: 2, duplicate: 1, inferred: 1, failed: 0, queued: 0 });
    jobs.stop();
  });

  it('infers a study of many instances from one key, past the job store\'s quota per key (they wait in the intake)', async () => {
    const { i, jobs, predicted } = intake({ perKey: 2 });
    const r = i.store(Array.from({ length: 12 }, (_, n) => ({ type: 'application/dicom', bytes: instance(100 + n) })), 'pacs-key');
    expect(r.failed).toEqual([]);
    for (let k = 0; k < 20 && predicted.length < 12; k++) await settle();
    expect(predicted).toHaveLength(12);
    expect(i.snapshot()).toMatchObject({ received: 12, inferred: 12, failed: 0, queued: 0 });
    jobs.stop();
  });

  it('held, takes and keeps what arrives but infers nothing; released, infers what waited', async () => {
    const { i, jobs, predicted } = intake();
    i.hold(true);
    const parts = Array.from({ length: 3 }, (_, n) => ({ type: 'application/dicom', bytes: instance(200 + n) }));
    expect(i.store(parts, null).failed).toEqual([]);
    i.store([parts[0]!], null); // sent again while held: still taken once
    await settle();
    expect(predicted).toHaveLength(0);
    expect(i.snapshot()).toMatchObject({ received: 4, duplicate: 1, inferred: 0, queued: 3, held: true });
    i.hold(false);
    for (let k = 0; k < 20 && predicted.length < 3; k++) await settle();
    expect(predicted).toHaveLength(3);
    expect(i.snapshot()).toMatchObject({ inferred: 3, queued: 0, held: false });
    jobs.stop();
  });

  it('refuses instances past its bytes in waiting (Out of Resources, for the PACS to send again), and counts them failed', () => {
    const one = instance(2);
    const { i, jobs } = intake({ maxQueuedBytes: one.length * 1.5 });
    jobs.stop(); // nothing runs: the first instance keeps its bytes
    const r = i.store([{ type: 'application/dicom', bytes: one }, { type: 'application/dicom', bytes: instance(3) }], null);
    expect(r.stored).toHaveLength(1);
    expect(r.failed).toEqual([{ sopClassUid: expect.any(String), sopInstanceUid: expect.any(String), reason: FAILURE.outOfResources }]);
    expect(i.snapshot()).toMatchObject({ received: 2, failed: 1, queued: 1 });
  });

  it('an instance whose inference failed is taken again when it is sent again (at least once)', async () => {
    let fail = true;
    const { i, jobs, predicted } = intake({ predict: async () => {
      if (fail) throw new Error('boom');
      return { predictions: [{ id: 'p', label: 'Normal', confidence: 0.9, probabilities: { Normal: 0.9, Pneumonia: 0.1 } }] };
    } });
    const part = { type: 'application/dicom', bytes: instance(4) };
    i.store([part], null);
    await settle();
    expect(i.snapshot()).toMatchObject({ failed: 1, inferred: 0 });
    expect(i.snapshot().failures[0]!.reason).toBe('inference failed: internal error');
    fail = false;
    i.store([part], null);
    await settle();
    expect(predicted).toHaveLength(2);
    expect(i.snapshot()).toMatchObject({ received: 2, duplicate: 0, inferred: 1 });
    jobs.stop();
  });

  it('fails what is not DICOM, and names no patient attribute in anything it logs or keeps', async () => {
    const { i, jobs, logs } = intake();
    expect(i.store([{ type: 'application/octet-stream', bytes: Buffer.from('x') }, { type: 'application/dicom', bytes: Buffer.from('not dicom') }], null).failed)
      .toEqual([{ reason: FAILURE.cannotUnderstand }, { reason: FAILURE.cannotUnderstand }]);
    i.store([{ type: 'application/dicom', bytes: instance(5) }], null);
    await settle();
    const kept = JSON.stringify(i.snapshot()) + logs.join('\n');
    for (const phi of ['Doe', 'Jane', 'MRN-7']) expect(kept).not.toContain(phi);
    jobs.stop();
  });
});
