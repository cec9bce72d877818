import { DriftChecker } from '../../../../operator/drift/checker.js';
import type { WindowResponse } from '../../../../contract/monitoring.js';
import { clinicalModel } from '../fixtures.js';

const KEY = 'radiology/pneumonia-cxr';
const NOW = Date.parse('2026-11-21T12:00:00Z');

/** An even spread of n values over [lo, hi). */
const spread = (n: number, lo: number, hi: number) => Array.from({ length: n }, (_, i) => lo + ((i + 0.5) / n) * (hi - lo));

function server(confidences: number[]) {
  let served = 0;
  const fetchFn = (async (url: string) => {
    const after = Number(new URL(url).searchParams.get('after'));
    const samples = confidences.map((c, i) => ({ seq: i + 1, time: '2026-11-21T11:59:00Z', confidence: c, label: 'Pneumonia', inputMean: 0, inputStd: 1 }))
      .filter((s) => s.seq > after);
    served += samples.length;
    const body: WindowResponse = { model: { name: 'm', version: '1' }, epoch: 'e1', seq: confidences.length, samples, dropped: false, capacity: 10_000 };
    return new Response(JSON.stringify(body), { status: 200 });
  }) as typeof fetch;
  return { fetchFn, served: () => served };
}

const configMaps = (data: Record<string, string> | undefined) => ({
  get: async <T>() => (data ? { metadata: { resourceVersion: '1' }, data } : undefined) as T | undefined,
});

const model = clinicalModel({ monitoring: { minSamples: 100, reference: { configMapRef: { name: 'ref', key: 'confidence.json' } } } });

describe('DriftChecker', () => {
  it('finds no drift when the predictions follow the reference, and judges each prediction once', async () => {
    const s = server(spread(300, 0.5, 1));
    const checker = new DriftChecker(configMaps({ 'confidence.json': JSON.stringify(spread(1000, 0.5, 1)) }), s.fetchFn);
    const c = await checker.check(KEY, model, ['http://10.0.0.7:8080'], NOW);
    expect(c.drift).toMatchObject({ verdict: 'NoDrift', samples: 300, replicasRead: 1, lastCheckTime: '2026-11-21T12:00:00Z' });
    expect(c.findings?.driftLevel).toBe(0);
    c.commit();
    const next = await checker.check(KEY, model, ['http://10.0.0.7:8080'], NOW + 60_000);
    expect(next.drift).toMatchObject({ verdict: 'InsufficientData', samples: 0 });
    expect(checker.lastCheck(KEY)).toBe(NOW + 60_000);
  });

  it('finds significant drift when the confidences fall', async () => {
    const s = server(spread(300, 0.5, 0.7));
    const checker = new DriftChecker(configMaps({ 'confidence.json': JSON.stringify(spread(1000, 0.5, 1)) }), s.fetchFn);
    const c = await checker.check(KEY, model, ['http://10.0.0.7:8080'], NOW);
    expect(c.drift.verdict).toBe('Significant');
    expect(c.findings).toMatchObject({ driftLevel: 2 });
    expect(c.drift.psi!).toBeGreaterThan(0.2);
    expect(c.drift.ks!.pValue).toBeLessThan(1e-6);
  });

  it('keeps too few predictions for the next check instead of calling them no drift', async () => {
    const s = server(spread(60, 0.5, 1));
    const checker = new DriftChecker(configMaps({ 'confidence.json': '[0.6, 0.7, 0.8, 0.9]' }), s.fetchFn);
    const first = await checker.check(KEY, model, ['http://10.0.0.7:8080'], NOW);
    expect(first.drift).toMatchObject({ verdict: 'InsufficientData', samples: 60, message: '60 of 100 predictions needed' });
    expect(first.findings).toBeUndefined();
    const second = await checker.check(KEY, model, ['http://10.0.0.7:8080', 'http://10.0.0.8:8080'], NOW + 1);
    expect(second.drift.samples).toBe(120); // the second replica's 60, added to the first's
  });

  it('says what is missing when the reference cannot be used', async () => {
    const fetchFn = server([]).fetchFn;
    const none = await new DriftChecker(configMaps(undefined), fetchFn).check(KEY, model, ['http://10.0.0.7:8080'], NOW);
    expect(none.drift).toMatchObject({ verdict: 'InsufficientData', message: 'reference ConfigMap radiology/ref key confidence.json: the ConfigMap does not exist' });
    expect(none.findings).toBeUndefined();
    const badKey = await new DriftChecker(configMaps({ other: '[1]' }), fetchFn).check(KEY, model, [], NOW);
    expect(badKey.drift.message).toContain('the key does not exist');
    const bad = await new DriftChecker(configMaps({ 'confidence.json': '0.9\nx\n' }), fetchFn).check(KEY, model, ['http://10.0.0.7:8080'], NOW);
    expect(bad.drift.message).toBe('reference ConfigMap radiology/ref key confidence.json:2: "x" is not a finite number');
    const unset = await new DriftChecker(configMaps({}), fetchFn).check(KEY, clinicalModel(), [], NOW);
    expect(unset.drift.message).toContain('set spec.monitoring.reference.configMapRef');
  });

  it('a new process skips predictions made before the last check in status (they were judged)', async () => {
    const s = server(spread(300, 0.5, 1));
    const checker = new DriftChecker(configMaps({ 'confidence.json': '[0.5, 0.9]' }), s.fetchFn);
    const checked = { ...model, status: { drift: { lastCheckTime: '2026-11-21T11:59:30Z' } } };
    const c = await checker.check(KEY, checked, ['http://10.0.0.7:8080'], NOW);
    expect(c.drift.samples).toBe(0);
    const older = { ...model, status: { drift: { lastCheckTime: '2026-11-21T11:58:30Z' } } };
    expect((await new DriftChecker(configMaps({ 'confidence.json': '[0.5, 0.9]' }), s.fetchFn).check(KEY, older, ['http://10.0.0.7:8080'], NOW)).drift.samples).toBe(300);
  });

  it('measures the performance dip on labelled predictions against the baseline', async () => {
    // 100 labelled predictions: positives scored 0.6–0.9 and predicted positive, except 20 missed ones.
    const labelled = Array.from({ length: 100 }, (_, i) => {
      const positive = i < 50;
      const missed = positive && i < 20;
      const p = positive ? (missed ? 0.3 : 0.6 + (i / 50) * 0.3) : 0.1 + (i / 100) * 0.3;
      return { seq: i + 1, time: '2026-11-21T11:59:00Z', predicted: p >= 0.5 ? 'Sepsis' : 'No sepsis', groundTruth: positive ? 'Sepsis' : 'No sepsis',
        probabilities: { 'No sepsis': 1 - p, Sepsis: p } };
    });
    const fetchFn = (async (url: string) => {
      const after = Number(new URL(url).searchParams.get('after'));
      const body = { model: { name: 'm', version: '1' }, epoch: 'e1', seq: url.includes('/feedback') ? 100 : 0,
        samples: url.includes('/feedback') ? labelled.filter((x) => x.seq > after) : [], dropped: false, capacity: 1000 };
      return new Response(JSON.stringify(body), { status: 200 });
    }) as typeof fetch;
    const sepsis = clinicalModel({ model: { ...clinicalModel().spec.model, labels: ['No sepsis', 'Sepsis'] },
      monitoring: { performance: { minLabels: 50, baseline: { sensitivity: 0.9, specificity: 0.9 } } } });
    const checker = new DriftChecker(configMaps({}), fetchFn);
    const c = await checker.check(KEY, sepsis, ['http://10.0.0.7:8080'], NOW);
    // sensitivity 30/50 = 0.6 against 0.9: a dip of 33 % → level 2; specificity 1.0 does not dip
    expect(c.drift.performance).toEqual({ labelled: 100, sensitivity: 0.6, specificity: 1, auroc: expect.any(Number), dip: 0.333333 });
    expect(c.findings).toMatchObject({ dipLevel: 2, dip: 0.333333 });
    expect(c.findings?.driftLevel).toBeUndefined();
    expect(c.findings?.summary).toBe('performance dip 33.3%: sensitivity 0.6 (baseline 0.9), specificity 1 (baseline 0.9) over 100 labelled predictions');
    c.commit();
    const again = await checker.check(KEY, sepsis, ['http://10.0.0.7:8080'], NOW + 1);
    expect(again.findings).toBeUndefined();
    expect(again.drift.message).toBe('0 of 50 labelled predictions needed for performance');
  });

  it('reports replicas it could not read', async () => {
    const failing = (async () => { throw new Error('connect ECONNREFUSED'); }) as typeof fetch;
    const c = await new DriftChecker(configMaps({ 'confidence.json': '[0.5]' }), failing).check(KEY, model, ['http://10.0.0.9:8080'], NOW);
    expect(c.drift).toMatchObject({ replicasRead: 0, verdict: 'InsufficientData' });
    expect(c.drift.message).toContain('http://10.0.0.9:8080: connect ECONNREFUSED');
  });
});
