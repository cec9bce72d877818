// Judging a drift check from gathered values: no HTTP, no cluster — the input is what the gatherer
// would have read.
import type { WindowSample } from '../../../../contract/monitoring.js';
import { judge } from '../../../../operator/drift/judge.js';
import type { DriftInput, LabelsRead } from '../../../../operator/drift/input.js';
import type { StoredPrediction } from '../../../../operator/drift/input.js';
import { clinicalModel } from '../fixtures.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');

/** An even spread of n values over [lo, hi). */
const spread = (n: number, lo: number, hi: number) => Array.from({ length: n }, (_, i) => lo + ((i + 0.5) / n) * (hi - lo));
const window = (confidences: number[]): WindowSample[] =>
  confidences.map((c, i) => ({ seq: i + 1, time: '2026-11-21T11:59:00Z', id: `p${i}`, confidence: c, label: 'Pneumonia', probabilities: [c], inputMean: 0, inputStd: 1 }));
const read = <T>(samples: T[], unreadable: string[] = [], dropped = false) => ({ samples, unreadable, dropped });

const model = clinicalModel({ monitoring: { minSamples: 100, reference: { configMapRef: { name: 'ref', key: 'confidence.json' } } } });
const withReference = (confidences: number[], extra: Partial<DriftInput> = {}): DriftInput =>
  ({ now: NOW, replicas: 1, reference: { values: spread(1000, 0.5, 1) }, window: read(window(confidences)), ...extra });

describe('judge', () => {
  it('finds no drift when the predictions follow the reference, and uses them all', () => {
    const j = judge(withReference(spread(300, 0.5, 1)), model);
    expect(j.drift).toMatchObject({ verdict: 'NoDrift', samples: 300, replicasRead: 1, lastCheckTime: '2026-11-21T12:00:00Z' });
    expect(j.drift.message).toBeUndefined();
    expect(j.findings?.driftLevel).toBe(0);
    expect(j.consumed).toEqual({ window: 300, feedback: 0, features: false });
  });

  it('finds significant drift when the confidences fall, with the numbers in the summary', () => {
    const j = judge(withReference(spread(300, 0.5, 0.7)), model);
    expect(j.drift.verdict).toBe('Significant');
    expect(j.findings).toMatchObject({ driftLevel: 2 });
    expect(j.drift.psi!).toBeGreaterThan(0.2);
    expect(j.drift.ks!.pValue).toBeLessThan(1e-6);
    expect(j.findings!.summary).toMatch(/^significant drift: PSI [\d.]+, KS D [\d.]+ \(p [\d.e-]+\) over 300 predictions$/);
  });

  it('does not call a trivial shift drift because many predictions make it significant', () => {
    // 20,000 predictions shifted by 0.01 against a reference of 20,000: KS p < 0.001 at D = 0.02, PSI ~0.
    const big: DriftInput = { now: NOW, replicas: 1, reference: { values: spread(20_000, 0.5, 1) }, window: read(window(spread(20_000, 0.51, 1.01))) };
    const j = judge(big, model);
    expect(j.drift.ks!.pValue).toBeLessThan(0.001);
    expect(j.drift.ks!.statistic).toBeLessThan(0.1);
    expect(j.drift.verdict).toBe('NoDrift');
    const byPValueAlone = clinicalModel({ monitoring: { ...model.spec.monitoring, ks: { pValue: 0.05, minStatistic: 0 } } });
    expect(judge(big, byPValueAlone).drift.verdict).toBe('Moderate');
  });

  it('keeps too few predictions for the next check instead of calling them no drift', () => {
    const j = judge(withReference(spread(60, 0.5, 1)), model);
    expect(j.drift).toMatchObject({ verdict: 'InsufficientData', samples: 60, message: '60 of 100 predictions needed' });
    expect(j.findings).toBeUndefined();
    expect(j.consumed).toEqual({ window: 0, feedback: 0, features: false });
  });

  it('says what is missing when the reference cannot be used, or nothing is configured', () => {
    const none = judge({ now: NOW, replicas: 1, reference: { error: 'reference ConfigMap radiology/ref key confidence.json: the ConfigMap does not exist' } }, model);
    expect(none.drift).toMatchObject({ verdict: 'InsufficientData', message: 'reference ConfigMap radiology/ref key confidence.json: the ConfigMap does not exist' });
    expect(none.findings).toBeUndefined();
    const unset = judge({ now: NOW, replicas: 0 }, clinicalModel());
    expect(unset.drift.message).toBe('no ready replica to read; nothing to check: set spec.monitoring.reference.configMapRef (drift) or spec.monitoring.performance.baseline (performance)');
  });

  it('reports replicas it could not read and predictions evicted before they were read', () => {
    const j = judge(withReference([], { replicas: 2, window: read([], ['http://10.0.0.9:8080: connect ECONNREFUSED'], true) }), model);
    expect(j.drift).toMatchObject({ replicasRead: 1, verdict: 'InsufficientData' });
    expect(j.drift.message).toBe('0 of 100 predictions needed; unreadable: http://10.0.0.9:8080: connect ECONNREFUSED; ' +
      'a replica evicted predictions before they were read (shorten spec.monitoring.interval)');
  });

  it('measures the performance dip on the sliding window of labelled predictions against the baseline, once enough labels are new', () => {
    // 100 labelled predictions: positives scored 0.6–0.9 and predicted positive, except 20 missed ones.
    const labelled: StoredPrediction[] = Array.from({ length: 100 }, (_, i) => {
      const positive = i < 50;
      const missed = positive && i < 20;
      const p = positive ? (missed ? 0.3 : 0.6 + (i / 50) * 0.3) : 0.1 + (i / 100) * 0.3;
      return { id: `p${i}`, time: NOW - 86_400_000, confidence: Math.max(p, 1 - p), predicted: p >= 0.5 ? 'Sepsis' : 'No sepsis', score: p,
        truth: positive ? 'Sepsis' : 'No sepsis', labelledAt: NOW - 1000 + i };
    });
    const labels = (l: StoredPrediction[], fresh: number, extra: Partial<LabelsRead> = {}): LabelsRead =>
      ({ labelled: l, fresh, awaiting: 7, waitingLabels: 0, unmatched: 2, expired: 3, unreadable: [], dropped: false, ...extra });
    const sepsis = clinicalModel({ model: { ...clinicalModel().spec.model, labels: ['No sepsis', 'Sepsis'] },
      monitoring: { performance: { minLabels: 50, baseline: { sensitivity: 0.9, specificity: 0.9 } } } });
    const j = judge({ now: NOW, replicas: 1, feedback: labels(labelled, 60) }, sepsis);
    // sensitivity 30/50 = 0.6 against 0.9: a dip of 33 % → level 2; specificity 1.0 does not dip
    expect(j.drift.performance).toEqual({ labelled: 100, sensitivity: 0.6, specificity: 1, auroc: expect.any(Number), dip: 0.333333,
      awaitingLabels: 7, unmatchedLabels: 2, expiredPredictions: 3, judgedOn: 'realized' });
    expect(j.findings).toMatchObject({ dipLevel: 2, dip: 0.333333 });
    expect(j.findings?.driftLevel).toBeUndefined();
    expect(j.findings?.summary).toBe('performance dip 33.3%: sensitivity 0.6 (baseline 0.9), specificity 1 (baseline 0.9) over the last 100 labelled predictions');
    // What was judged: the labels up to the newest one's arrival.
    expect(j.consumed).toEqual({ window: 0, feedback: NOW - 1000 + 99, features: false });
    // Too few new labels: not judged again; the last judgement stands in status with today's counts.
    const judged = { ...sepsis, status: { drift: { lastCheckTime: '', samples: 0, verdict: 'NoDrift' as const, performance: j.drift.performance } } };
    const thin = judge({ now: NOW, replicas: 1, feedback: labels(labelled, 10, { awaiting: 9 }) }, judged);
    expect(thin.findings).toBeUndefined();
    expect(thin.consumed.feedback).toBe(0);
    expect(thin.drift.message).toBe('10 of 50 new labelled predictions needed for performance (9 predictions await ground truth)');
    expect(thin.drift.performance).toMatchObject({ labelled: 100, sensitivity: 0.6, awaitingLabels: 9 });
  });

  describe('with input features and predicted labels', () => {
    const names = ['heart_rate', 'lactate', 'wbc'];
    const features = clinicalModel({
      model: { ...clinicalModel().spec.model, labels: ['No sepsis', 'Sepsis'] },
      monitoring: { minSamples: 100, features: names, reference: { configMapRef: { name: 'ref' }, labelsKey: 'labels.json' } },
    });
    const uniformCounts = (n: number) => new Array<number>(100).fill(n / 100);
    /** Counts of n values uniform on [0, 1) shifted by `shift`, over the reference's 100 equal bins of [0, 1). */
    const shifted = (n: number, shift: number) => {
      const c = new Array<number>(100).fill(0);
      for (let i = 0; i < n; i++) c[Math.min(99, Math.max(0, Math.floor(((i + 0.5) / n + shift) * 100)))]! += 1;
      return c;
    };
    /** n values on [0, 1) with a quarter more mass above the median, a quarter less below: KS D 0.125, PSI 0.06. */
    const tilted = (n: number) => Array.from({ length: 100 }, (_, b) => (n / 100) * (b < 50 ? 0.75 : 1.25));
    const sepsisWindow = (n: number, sepsis: number) => window(spread(n, 0.5, 1)).map((x, i) => ({ ...x, label: i < sepsis ? 'Sepsis' : 'No sepsis' }));
    const input = (counts: number[][], labels = { 'No sepsis': 900, Sepsis: 100 }, n = 1000, sepsis = 100): DriftInput => ({
      now: NOW, replicas: 1, reference: { values: spread(1000, 0.5, 1) }, window: read(sepsisWindow(n, sepsis)),
      labels: { counts: labels },
      features: { reference: { names, counts: names.map(() => uniformCounts(2000)), bins: 'b' }, counts, samples: n, unreadable: [], dropped: false },
    });

    it('names the one shifted feature while the confidences and labels stay put, and says so in status', () => {
      const j = judge(input([shifted(1000, 0), tilted(2000), shifted(1000, 0)]), features);
      expect(j.drift.verdict).toBe('Moderate');
      expect(j.drift.features).toBe(3);
      expect(j.drift.signals).toEqual([{ name: 'lactate', kind: 'feature', verdict: 'Moderate', psi: expect.any(Number), statistic: expect.any(Number), pValue: expect.any(Number) }]);
      // PSI over ten groups: 5 × (0.025 ln(1/0.75) + 0.025 ln 1.25) = 0.0638532; D at the median, 0.125.
      expect(j.drift.signals![0]).toMatchObject({ psi: 0.0638532, statistic: 0.125 });
      expect(j.findings).toMatchObject({ driftLevel: 1 });
      expect(j.findings!.summary).toMatch(/^moderate drift in lactate: lactate PSI [\d.]+, KS D ≥ [\d.]+ \(p [\d.e-]+, adjusted across features\); confidence PSI [\d.]+, KS D [\d.]+ \(p [\d.e-]+\) over 1000 predictions$/);
      expect(j.consumed).toEqual({ window: 1000, feedback: 0, features: true });
      // Every signal is there for the metrics: confidence, labels and each feature.
      expect(j.signals!.map((s) => s.signal)).toEqual(['confidence', 'labels', ...names]);
    });

    it('names the three strongest signals in what a person reads, and counts the rest (all of them in status)', () => {
      const ten = Array.from({ length: 10 }, (_, i) => `f${i}`);
      const m = clinicalModel({ ...features.spec, monitoring: { ...features.spec.monitoring, features: ten } });
      const all = input(ten.map((_, i) => shifted(1000, 0.05 + 0.02 * i)));
      all.features = { reference: { names: ten, counts: ten.map(() => uniformCounts(2000)), bins: 'b' }, counts: ten.map((_, i) => shifted(1000, 0.05 + 0.02 * i)), samples: 1000, unreadable: [], dropped: false };
      const j = judge(all, m);
      expect(j.drift.verdict).toBe('Significant');
      // Strongest first: the largest shifts.
      const drifted = j.signals!.filter((x) => x.verdict !== 'NoDrift').length;
      expect(drifted).toBeGreaterThan(5);
      expect(j.findings!.summary).toMatch(new RegExp(`^significant drift in f9, f8, f7 and ${drifted - 3} more \\(status\\.drift\\.signals\\): f9 PSI [\\d.]+[^;]*; f8 PSI [^;]*; f7 PSI [^;]*; confidence PSI`));
      expect(j.findings!.summary).not.toContain('f6');
      expect(j.signals!.filter((s) => s.signal.startsWith('f'))).toHaveLength(10);
    });

    it('does not call a trivial feature shift over many predictions drift', () => {
      const big = (shift: number) => shifted(40_000, shift);
      const j = judge({ ...input([big(0), big(0.03), big(0)], { 'No sepsis': 900, Sepsis: 100 }, 1000),
        features: { reference: { names, counts: names.map(() => uniformCounts(40_000)), bins: 'b' }, counts: [big(0), big(0.03), big(0)], samples: 40_000, unreadable: [], dropped: false } }, features);
      const lactate = j.signals!.find((s) => s.signal === 'lactate')!;
      expect(lactate.adjustedP).toBeLessThan(1e-6);
      expect(lactate.effect).toBeLessThan(0.1);
      expect(j.drift.verdict).toBe('NoDrift');
      expect(j.drift.signals).toBeUndefined();
    });

    it('tests the predicted labels against the reference\'s, beside the confidence and the features', () => {
      // Sepsis predicted for 40% of patients against 10% on the holdout.
      const j = judge(input(names.map(() => shifted(1000, 0)), { 'No sepsis': 900, Sepsis: 100 }, 1000, 400), features);
      expect(j.drift.signals?.map((s) => [s.name, s.kind])).toEqual([['labels', 'labels']]);
      expect(j.drift.signals![0]!.statistic).toBeCloseTo(0.3, 6);
      expect(j.drift.verdict).toBe('Significant');
      expect(j.findings!.summary).toContain('labels PSI');
    });

    it('says why features were not judged, and judges the rest', () => {
      const few = judge({ ...input([]), features: { reference: { names, counts: [], bins: 'b' }, samples: 40, unreadable: ['http://10.0.0.9:8080: HTTP 404'], dropped: false } }, features);
      expect(few.drift.verdict).toBe('NoDrift');
      expect(few.drift.features).toBeUndefined();
      expect(few.drift.message).toBe('feature counts unreadable: http://10.0.0.9:8080: HTTP 404; 40 of 100 predictions with feature counts needed');
      expect(few.consumed.features).toBe(false);
      const broken = judge({ ...input([]), features: { error: 'reference ConfigMap radiology/ref key features.json: the key does not exist' }, labels: { error: 'labels broken' } }, features);
      expect(broken.drift.message).toBe('labels broken; reference ConfigMap radiology/ref key features.json: the key does not exist');
      expect(broken.signals!.map((s) => s.signal)).toEqual(['confidence']);
    });
  });

  describe('performance estimated without labels (CBPE)', () => {
    const labelsOf = ['No sepsis', 'Sepsis'];
    const estimating = (performance: object = { minLabels: 50, baseline: { auroc: 0.9, sensitivity: 0.9 } }) => clinicalModel({
      model: { ...clinicalModel().spec.model, labels: labelsOf },
      monitoring: { minSamples: 100, reference: { configMapRef: { name: 'ref' }, calibrationKey: 'calibration.json' }, performance } as never,
    });
    // Scores as they are (calibration "none"), all near the decision: an expected AUROC far below 0.9.
    const calibration = { method: 'none' as const, positiveLabel: 'Sepsis', cases: 500, ece: { raw: 0.03, isotonic: 0.04 } };
    const uncertain = (n: number): WindowSample[] => spread(n, 0.35, 0.65).map((p, i) =>
      ({ seq: i + 1, time: '2026-11-21T11:59:00Z', id: `p${i}`, confidence: Math.max(p, 1 - p), label: p >= 0.5 ? 'Sepsis' : 'No sepsis', probabilities: [1 - p, p], inputMean: 0, inputStd: 1 }));
    const input = (extra: Partial<DriftInput> = {}): DriftInput =>
      ({ now: NOW, replicas: 1, reference: { values: spread(1000, 0.5, 0.65) }, window: read(uncertain(400)), calibration, ...extra });

    it('escalates on an estimated dip before any label arrives, and says it is estimated', () => {
      const j = judge(input(), estimating());
      const e = j.drift.performance!.estimated!;
      expect(e.method).toMatch(/^CBPE \(scores as calibrated on 500 holdout cases; assumes no concept shift\)$/);
      expect(e.cases).toBe(400);
      expect(e.positiveRate).toBe(0.5);
      expect(e.auroc!.value).toBeLessThan(0.6);
      expect(e.auroc!.low).toBeLessThan(e.auroc!.value);
      expect(e.auroc!.high).toBeGreaterThan(e.auroc!.value);
      expect(j.drift.performance!.judgedOn).toBe('estimated');
      expect(j.findings).toMatchObject({ dipLevel: 2, estimated: true });
      expect(j.findings!.summary).toMatch(/estimated performance dip [\d.]+% \(CBPE, before labels\): AUROC [\d.]+ \[[\d.]+, [\d.]+\] \(baseline 0.9\)/);
    });

    it('judges by the protocol dips unless the spec sets its own', () => {
      const lenient = judge(input(), estimating({ baseline: { auroc: 0.6 }, alertDip: 0.2, pauseDip: 0.5 }));
      expect(lenient.findings?.dipLevel).toBe(0);
    });

    it('lets labels win when they were judged in the same check, and shows both', () => {
      const labelled: StoredPrediction[] = Array.from({ length: 60 }, (_, i) => ({ id: `q${i}`, time: NOW - 1000, confidence: 0.9,
        predicted: i < 30 ? 'Sepsis' : 'No sepsis', score: i < 30 ? 0.9 : 0.1, truth: i < 30 ? 'Sepsis' : 'No sepsis', labelledAt: NOW - 500 + i }));
      const feedback = { labelled, fresh: 60, awaiting: 0, waitingLabels: 0, unmatched: 0, expired: 0, unreadable: [], dropped: false };
      const j = judge(input({ feedback }), estimating());
      expect(j.drift.performance).toMatchObject({ judgedOn: 'realized', auroc: 1, labelled: 60 });
      expect(j.drift.performance!.estimated!.dip).toBeGreaterThan(0.3);
      expect(j.findings).toMatchObject({ dipLevel: 0 });
      expect(j.findings!.estimated).toBeUndefined();
    });

    it('says why it does not estimate: an unusable calibration, another positive label, more than two labels', () => {
      const broken = judge(input({ calibration: { error: 'reference ConfigMap radiology/ref key calibration.json: the key does not exist' } }), estimating());
      expect(broken.drift.message).toContain('performance not estimated: reference ConfigMap radiology/ref key calibration.json: the key does not exist');
      expect(broken.drift.performance).toBeUndefined();
      const other = judge(input({ calibration: { ...calibration, positiveLabel: 'No sepsis' } }), estimating());
      expect(other.drift.message).toContain('the calibration is for the label "No sepsis", the positive label is "Sepsis"');
      const three = clinicalModel({ model: { ...clinicalModel().spec.model, labels: ['a', 'b', 'Sepsis'] }, monitoring: estimating().spec.monitoring });
      expect(judge(input(), three).drift.message).toContain('CBPE here is for binary models, this one has 3 labels');
    });
  });

  describe('performance per subgroup', () => {
    const labelsOf = ['No sepsis', 'Sepsis'];
    const calibration = { method: 'none' as const, positiveLabel: 'Sepsis', cases: 500, ece: { raw: 0.03, isotonic: 0.04 } };
    const bySite = (performance: object = { minLabels: 50, baseline: { auroc: 0.9 } }) => clinicalModel({
      model: { ...clinicalModel().spec.model, labels: labelsOf },
      monitoring: {
        minSamples: 100, reference: { configMapRef: { name: 'ref' }, calibrationKey: 'calibration.json' }, performance,
        subgroups: { header: 'x-clinops-site', minCases: 100, groups: [{ name: 'site-a', baseline: { auroc: 0.97 } }, { name: 'site-b' }, { name: 'site-c' }] },
      } as never,
    });
    const sample = (p: number, i: number, subgroup: string): WindowSample =>
      ({ seq: i + 1, time: '2026-11-21T11:59:00Z', id: `${subgroup}-${i}`, confidence: Math.max(p, 1 - p), label: p >= 0.5 ? 'Sepsis' : 'No sepsis', probabilities: [1 - p, p], inputMean: 0, inputStd: 1, subgroup });
    // site-a: confident scores (easy cases); site-b: every case near the decision (its expected AUROC far lower); site-c: 40 cases.
    const confident = (n: number, site: string) => spread(n, 0, 1).map((u, i) => sample(u < 0.5 ? 0.02 + u * 0.1 : 0.93 + (u - 0.5) * 0.1, i, site));
    const uncertain = (n: number, site: string) => spread(n, 0.4, 0.6).map((p, i) => sample(p, i, site));
    const window = [...confident(900, 'site-a'), ...uncertain(300, 'site-b'), ...confident(40, 'site-c')];
    const input = (extra: Partial<DriftInput> = {}): DriftInput =>
      ({ now: NOW, replicas: 1, reference: { values: spread(1000, 0.5, 1) }, window: read(window), calibration, ...extra });

    it('escalates on one site\'s estimated dip, names it, and reports a group too small to judge', () => {
      const j = judge(input(), bySite());
      const groups = j.drift.performance!.subgroups!;
      expect(groups.map((g) => [g.name, g.cases, g.judged])).toEqual([['site-a', 900, true], ['site-b', 300, true], ['site-c', 40, false]]);
      expect(groups[0]).toMatchObject({ judgedOn: 'estimated', level: 0 });
      expect(groups[1]).toMatchObject({ judgedOn: 'estimated', level: 2 });
      // Ranges widened for three groups: the group's AUROC range is wider than a 95% one would be.
      const b = groups[1]!.estimated!.auroc!;
      expect(b.low).toBeLessThan(b.value);
      expect(b.high).toBeLessThan(0.9 * 0.9);
      expect(j.findings).toMatchObject({ dipLevel: 2, estimated: true });
      expect(j.findings!.summary).toMatch(/^estimated performance dip ≥ [\d.]+% in subgroup site-b \(CBPE, before labels; ranges 98.3% for 3 groups\): AUROC [\d.]+ \[[\d.]+, [\d.]+\] \(baseline 0.9\) over 300 predictions/);
      expect(j.findings!.summary).not.toContain('site-a');
    });

    it('judges a group on its labels once it has enough, and labels win over its estimate', () => {
      const labelled: StoredPrediction[] = window.filter((x) => x.subgroup === 'site-b').filter((_, i) => i % 5 === 0).map((x, i) => ({
        id: x.id, time: NOW - 1000, confidence: x.confidence, predicted: x.label, score: x.probabilities[1]!, subgroup: 'site-b',
        // Labels that agree with the decisions: a realized AUROC of 1.
        truth: x.label, labelledAt: NOW - 500 + i,
      }));
      const feedback = { labelled, fresh: 60, awaiting: 0, waitingLabels: 0, unmatched: 0, expired: 0, unreadable: [], dropped: false };
      const j = judge(input({ feedback }), bySite());
      const b = j.drift.performance!.subgroups![1]!;
      expect(b).toMatchObject({ judgedOn: 'realized', level: 0, realized: { labelled: 60, auroc: 1 } });
      expect(b.estimated!.auroc!.value).toBeLessThan(0.7);
      expect(j.findings!.dipLevel).toBe(0);
      // Labels arriving after the predictions were judged, in a check with no new prediction, are judged too.
      const later = judge(input({ feedback, window: read([]) }), bySite());
      expect(later.drift.performance!.subgroups![1]).toMatchObject({ name: 'site-b', cases: 0, judgedOn: 'realized', realized: { labelled: 60 } });
    });
  });
});

