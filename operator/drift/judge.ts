// Judging one drift check (pure): from what was gathered (DriftInput), compare what the model sees and
// says with its reference — the top-class confidences (two-sample KS and PSI), the predicted labels
// (chi-square and PSI) and each declared input feature (from bin counts) — and the labelled predictions'
// performance with the validated baseline; say the verdict, the signals that drove it and the numbers
// for status.drift, what the escalation state machine needs (findings), and what was used (so each
// prediction is judged once). Too few samples is InsufficientData and keeps them for the next check.
import type { WindowSample } from '../../contract/monitoring.js';
import type { ClinicalModel, DriftStatus, PerformanceStatus } from '../api/types.js';
import type { Consumed, DriftInput } from './input.js';
import { ks2samp } from '../../statistics/ks-2samp.js';
import { psi } from '../../statistics/psi.js';
import { rfc3339 } from '../util/time.js';
import { performance } from './performance.js';
import { featureStatistics, judgeSignals, labelStatistics, type SignalJudgement } from './signals.js';
import { driftLevel } from './verdict.js';

export interface Judgement {
  drift: DriftStatus;
  /** Every signal judged (for metrics), when the check had enough predictions. */
  signals?: SignalJudgement[];
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
  const consumed: Consumed = { window: 0, feedback: 0, features: false };
  let judgementSignals: SignalJudgement[] | undefined;
  if (input.replicas === 0) notes.push('no ready replica to read');
  if (input.reference && 'error' in input.reference) notes.push(input.reference.error);

  // 1. What the model sees and says, against the reference: the top-class confidences (KS and PSI on
  // values), the predicted labels (chi-square, PSI), each input feature (from bin counts; features are
  // one family under Benjamini–Hochberg). Each group is judged by judgeSignals; the worst decides.
  const w = input.window;
  if (w && input.reference && 'values' in input.reference) {
    drift.replicasRead = input.replicas - w.unreadable.length;
    if (w.unreadable.length > 0) notes.push(`unreadable: ${w.unreadable.join('; ')}`);
    if (w.dropped) notes.push('a replica evicted predictions before they were read (shorten spec.monitoring.interval)');
    const minSamples = mon.minSamples ?? 200;
    const n = w.samples.length;
    drift.samples = n;
    if (input.labels && 'error' in input.labels) notes.push(input.labels.error);
    if (input.features && 'error' in input.features) notes.push(input.features.error);
    if (n < minSamples) {
      notes.unshift(`${n} of ${minSamples} predictions needed`);
    } else {
      const t = {
        psiModerate: mon.psi?.moderate ?? 0.1,
        psiSignificant: mon.psi?.significant ?? 0.2,
        ksPValue: mon.ks?.pValue ?? 0.05,
        ksMinStatistic: mon.ks?.minStatistic ?? 0.1,
      };
      const reference = input.reference.values as number[];
      const ks = ks2samp(reference, w.samples.map((x) => x.confidence));
      const p = psi(reference, w.samples.map((x) => x.confidence), mon.psi?.bins ?? 10);
      const groups = [judgeSignals([{ signal: 'confidence', kind: 'confidence', psi: p.psi, effect: ks.statistic, pValue: ks.pValue }], t)];
      if (input.labels && 'counts' in input.labels) {
        const [ref, cur] = labelCounts(input.labels.counts, cr.spec.model.labels, w.samples);
        groups.push(judgeSignals([labelStatistics(ref, cur)], t));
      }
      const f = input.features;
      if (f && 'reference' in f) {
        if (f.unreadable.length > 0) notes.push(`feature counts unreadable: ${f.unreadable.join('; ')}`);
        if (!f.counts || f.samples < minSamples) {
          notes.push(`${f.samples} of ${minSamples} predictions with feature counts needed`);
        } else {
          const counts = f.counts;
          groups.push(judgeSignals(f.reference.names.map((name, i) =>
            featureStatistics(name, f.reference.counts[i]!, counts[i]!, mon.psi?.bins ?? 10)), t));
          drift.features = f.reference.names.length;
          consumed.features = true;
        }
      }
      const signals = groups.flatMap((g) => g.signals);
      const drivers = groups.flatMap((g) => g.drivers).sort(worstFirst);
      const verdict = drivers[0]?.verdict ?? 'NoDrift';
      Object.assign(drift, { verdict, psi: round(p.psi), ks: { statistic: round(ks.statistic), pValue: round(ks.pValue) } });
      if (drivers.length > 0) {
        drift.signals = drivers.slice(0, 5).map((d) => ({
          name: d.signal, kind: d.kind, verdict: d.verdict as 'Moderate' | 'Significant', psi: round(d.psi), statistic: round(d.effect), pValue: round(d.adjustedP),
        }));
      }
      Object.assign(findings, { driftLevel: driftLevel(verdict), psi: drift.psi, ksPValue: drift.ks!.pValue });
      judgementSignals = signals;
      const head = verdict === 'NoDrift' ? 'no drift' : `${verdict.toLowerCase()} drift`;
      const confidence = `PSI ${round(p.psi)}, KS D ${round(ks.statistic)} (p ${ks.pValue.toPrecision(3)}) over ${n} predictions`;
      // A person reads this (Event, condition, incident): the three strongest signals and how many more;
      // the rest are in status.drift.signals.
      const shown = drivers.slice(0, SIGNALS_SHOWN);
      const more = drivers.length > SIGNALS_SHOWN ? ` and ${drivers.length - SIGNALS_SHOWN} more (status.drift.signals)` : '';
      const others = shown.filter((d) => d.kind !== 'confidence');
      summaries.push(others.length === 0 ? `${head}${more ? ` in ${shown.map((d) => d.signal).join(', ')}${more}` : ''}: ${confidence}`
        : `${head} in ${shown.map((d) => d.signal).join(', ')}${more}: ${others.map(describe).join('; ')}; confidence ${confidence}`);
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
    const n = f.labelled.length;
    const counts = { awaitingLabels: f.awaiting, unmatchedLabels: f.unmatched, expiredPredictions: f.expired };
    if (f.problem) notes.push(f.problem);
    if (f.dropped) notes.push('a replica evicted predictions or labels before they were read (shorten spec.monitoring.interval)');
    if (f.fresh < minLabels) {
      notes.push(`${f.fresh} of ${minLabels} new labelled predictions needed for performance (${f.awaiting} predictions await ground truth)`);
      // The sliding window's last judgement still stands; the counts are today's.
      const last = cr.status?.drift?.performance;
      if (last) drift.performance = { ...last, ...counts };
    } else {
      const r = performance(f.labelled.map((x) => ({
        positiveScore: x.score,
        predictedPositive: x.predicted === positive,
        actuallyPositive: x.truth === positive,
      })), baseline, minLabels);
      const status: PerformanceStatus = { labelled: n, dip: round(r.dip) };
      for (const k of METRICS) if (r[k] !== undefined) status[k] = round(r[k]);
      drift.performance = { ...status, ...counts };
      Object.assign(findings, { dipLevel: r.level, dip: status.dip });
      const metrics = METRICS.filter((k) => baseline[k] !== undefined && r[k] !== undefined)
        .map((k) => `${k === 'auroc' ? 'AUROC' : k} ${round(r[k]!)} (baseline ${baseline[k]})`).join(', ');
      summaries.push(`performance dip ${(r.dip * 100).toFixed(1)}%: ${metrics} over the last ${n} labelled predictions`);
      consumed.feedback = f.labelled[n - 1]!.labelledAt!;
    }
  } else if (!input.reference) {
    notes.push('nothing to check: set spec.monitoring.reference.configMapRef (drift) or spec.monitoring.performance.baseline (performance)');
  }

  if (notes.length > 0) drift.message = notes.join('; ');
  findings.summary = summaries.join('; ');
  const judged = findings.driftLevel !== undefined || findings.dipLevel !== undefined;
  return { drift, findings: judged ? findings : undefined, consumed, ...(judgementSignals ? { signals: judgementSignals } : {}) };
}

const RANK = { Significant: 2, Moderate: 1, NoDrift: 0 } as const;
const worstFirst = (a: SignalJudgement, b: SignalJudgement) => RANK[b.verdict] - RANK[a.verdict] || b.psi - a.psi || b.effect - a.effect;

function describe(d: SignalJudgement): string {
  return d.kind === 'labels'
    ? `labels PSI ${round(d.psi)}, total variation ${round(d.effect)} (chi-square p ${d.pValue.toPrecision(3)})`
    : `${d.signal} PSI ${round(d.psi)}, KS D ≥ ${round(d.effect)} (p ${d.adjustedP.toPrecision(3)}, adjusted across features)`;
}

/**
 * The reference's and the window's predicted-label counts over the same categories: the model's labels
 * in order, then any other label either side names (a reference from another label set shows as shift).
 */
export function labelCounts(reference: Record<string, number>, labels: readonly string[], samples: readonly WindowSample[]): [number[], number[]] {
  const categories = [...new Set([...labels, ...Object.keys(reference), ...samples.map((x) => x.label)])];
  const index = new Map(categories.map((c, i) => [c, i]));
  const current = new Array<number>(categories.length).fill(0);
  for (const x of samples) current[index.get(x.label)!]! += 1;
  return [categories.map((c) => reference[c] ?? 0), current];
}

/** Signals a drift message names (the strongest first); the rest are counted. */
const SIGNALS_SHOWN = 3;

export interface CheckFindings {
  /** Level the drift verdict calls for (0 for NoDrift), or undefined for InsufficientData. */
  driftLevel?: 0 | 1 | 2;
  /** Level the performance dip calls for, or undefined when there were too few labels. */
  dipLevel?: 0 | 1 | 2;
  psi?: number;
  ksPValue?: number;
  dip?: number;
  summary: string;
}
