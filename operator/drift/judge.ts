// Judging one drift check (pure): from what was gathered (DriftInput), compare the top-class
// confidences with the reference by two-sample KS and PSI, and the labelled predictions' performance
// with the validated baseline; say the verdict and the numbers for status.drift, what the escalation
// state machine needs (findings), and how many samples were used (so they are judged once).
// Too few samples is InsufficientData and keeps them for the next check.
import type { ClinicalModel, DriftStatus, PerformanceStatus } from '../api/types.js';
import type { CheckFindings } from '../escalation/machine.js';
import type { Consumed, DriftInput } from '../monitoring/gatherer.js';
import { ks2samp } from '../statistics/ks-2samp.js';
import { psi } from '../statistics/psi.js';
import { rfc3339 } from '../util/time.js';
import { performance } from './performance.js';
import { driftLevel, signalVerdict } from './verdict.js';

export interface Judgement {
  drift: DriftStatus;
  /** What the check found, for the escalation state machine; undefined when nothing was judged. */
  findings?: CheckFindings;
  consumed: Consumed;
}

const round = (x: number) => Number(x.toPrecision(6));
const METRICS = ['auroc', 'sensitivity', 'specificity'] as const;

export function judge(input: DriftInput, cr: ClinicalModel): Judgement {
  const mon = cr.spec.monitoring ?? {};
  const drift: DriftStatus = { lastCheckTime: rfc3339(input.now), samples: 0, verdict: 'InsufficientData', replicasRead: 0 };
  const notes: string[] = [];
  const findings: CheckFindings = { summary: '' };
  const summaries: string[] = [];
  const consumed: Consumed = { window: 0, feedback: 0 };
  if (input.replicas === 0) notes.push('no ready replica to read');
  if (input.reference && 'error' in input.reference) notes.push(input.reference.error);

  // 1. The top-class confidences against the reference distribution.
  const w = input.window;
  if (w && input.reference && 'values' in input.reference) {
    drift.replicasRead = input.replicas - w.unreadable.length;
    if (w.unreadable.length > 0) notes.push(`unreadable: ${w.unreadable.join('; ')}`);
    if (w.dropped) notes.push('a replica evicted predictions before they were read (shorten spec.monitoring.interval)');
    const minSamples = mon.minSamples ?? 200;
    const n = w.samples.length;
    drift.samples = n;
    if (n < minSamples) {
      notes.unshift(`${n} of ${minSamples} predictions needed`);
    } else {
      const current = w.samples.map((x) => x.confidence);
      const reference = input.reference.values as number[];
      const ks = ks2samp(reference, current);
      const p = psi(reference, current, mon.psi?.bins ?? 10);
      const verdict = signalVerdict({ samples: n, psi: p.psi, ksPValue: ks.pValue, ksStatistic: ks.statistic }, {
        minSamples,
        psiModerate: mon.psi?.moderate ?? 0.1,
        psiSignificant: mon.psi?.significant ?? 0.2,
        ksPValue: mon.ks?.pValue ?? 0.05,
        ksMinStatistic: mon.ks?.minStatistic ?? 0.1,
      });
      Object.assign(drift, { verdict, psi: round(p.psi), ks: { statistic: round(ks.statistic), pValue: round(ks.pValue) } });
      Object.assign(findings, { driftLevel: driftLevel(verdict), psi: drift.psi, ksPValue: drift.ks!.pValue });
      summaries.push(`${verdict === 'NoDrift' ? 'no drift' : `${verdict.toLowerCase()} drift`}: PSI ${round(p.psi)}, ` +
        `KS D ${round(ks.statistic)} (p ${ks.pValue.toPrecision(3)}) over ${n} predictions`);
      consumed.window = n;
    }
  }

  // 2. Performance on the predictions that received ground truth, against the validated baseline.
  const f = input.feedback;
  if (f) {
    const usable = w !== undefined;
    if (f.unreadable.length > 0 && !usable) notes.push(`unreadable: ${f.unreadable.join('; ')}`);
    if (!usable) drift.replicasRead = input.replicas - f.unreadable.length;
    const perf = mon.performance;
    const baseline = perf?.baseline ?? {};
    const positive = perf?.positiveLabel ?? cr.spec.model.labels[cr.spec.model.labels.length - 1] ?? '';
    const minLabels = perf?.minLabels ?? 50;
    const n = f.samples.length;
    if (n < minLabels) {
      notes.push(`${n} of ${minLabels} labelled predictions needed for performance`);
    } else {
      const r = performance(f.samples.map((x) => ({
        positiveScore: x.probabilities[positive] ?? 0,
        predictedPositive: x.predicted === positive,
        actuallyPositive: x.groundTruth === positive,
      })), baseline, minLabels);
      const status: PerformanceStatus = { labelled: n, dip: round(r.dip) };
      for (const k of METRICS) if (r[k] !== undefined) status[k] = round(r[k]);
      drift.performance = status;
      Object.assign(findings, { dipLevel: r.level, dip: status.dip });
      const metrics = METRICS.filter((k) => baseline[k] !== undefined && r[k] !== undefined)
        .map((k) => `${k === 'auroc' ? 'AUROC' : k} ${round(r[k]!)} (baseline ${baseline[k]})`).join(', ');
      summaries.push(`performance dip ${(r.dip * 100).toFixed(1)}%: ${metrics} over ${n} labelled predictions`);
      consumed.feedback = n;
    }
  } else if (!input.reference) {
    notes.push('nothing to check: set spec.monitoring.reference.configMapRef (drift) or spec.monitoring.performance.baseline (performance)');
  }

  if (notes.length > 0) drift.message = notes.join('; ');
  findings.summary = summaries.join('; ');
  const judged = findings.driftLevel !== undefined || findings.dipLevel !== undefined;
  return { drift, findings: judged ? findings : undefined, consumed };
}
