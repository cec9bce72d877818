// Judging one drift check (pure): from what was gathered (DriftInput), compare what the model sees and
// says with its reference — the top-class confidences (two-sample KS and PSI), the predicted labels
// (chi-square and PSI) and each declared input feature (from bin counts) — and the labelled predictions'
// performance with the validated baseline; say the verdict, the signals that drove it and the numbers
// for status.drift, what the escalation state machine needs (findings), and what was used (so each
// prediction is judged once). Too few samples is InsufficientData and keeps them for the next check.
import type { WindowSample } from '../../contract/monitoring.js';
import type { ClinicalModel, DriftStatus, EstimatedPerformanceStatus, PerformanceStatus } from '../api/types.js';
import type { Consumed, DriftInput } from './input.js';
import { ks2samp } from '../../statistics/ks-2samp.js';
import { psi } from '../../statistics/psi.js';
import { rfc3339 } from '../util/time.js';
import { dipOf, performance, PROTOCOL_DIPS } from './performance.js';
import { estimatePerformance } from '../../statistics/cbpe.js';
import { calibrate } from '../../statistics/isotonic.js';
import { featureStatistics, judgeSignals, labelStatistics, type SignalJudgement } from './signals.js';
import { judgeSubgroups } from './subgroups.js';
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
  let estimated: EstimatedPerformanceStatus | undefined;
  /** This check's predictions with their positive-label scores, calibrated: for the estimate per subgroup. */
  let scored: { samples: readonly WindowSample[]; scores: number[]; calibrated?: number[] } | undefined;
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
      const e = estimateOf(input, cr, w.samples, notes);
      estimated = e?.status;
      const at = cr.spec.model.labels.indexOf(positiveOf(cr));
      scored = { samples: w.samples, scores: e?.scores ?? w.samples.map((x) => x.probabilities[at] ?? 0), ...(e ? { calibrated: e.calibrated } : {}) };
    }
  }

  // 2. Performance on the predictions that received ground truth, against the validated baseline.
  const perf = mon.performance;
  const baseline = perf?.baseline ?? {};
  const dips = { alertDip: perf?.alertDip ?? PROTOCOL_DIPS.alertDip, pauseDip: perf?.pauseDip ?? PROTOCOL_DIPS.pauseDip };
  let realized = false;
  const f = input.feedback;
  if (f) {
    const usable = w !== undefined;
    if (f.unreadable.length > 0 && !usable) notes.push(`unreadable: ${f.unreadable.join('; ')}`);
    if (!usable) drift.replicasRead = input.replicas - f.unreadable.length;
    const positive = positiveOf(cr);
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
      })), baseline, minLabels, dips);
      const status: PerformanceStatus = { labelled: n, dip: round(r.dip), judgedOn: 'realized' };
      realized = true;
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

  // 3. Without fresh labels, the estimate (CBPE) says whether performance dipped; labels, when judged, win.
  if (estimated) {
    const d = dipOf({ auroc: estimated.auroc?.value, sensitivity: estimated.sensitivity?.value, specificity: estimated.specificity?.value }, baseline, dips);
    const judged = Object.values(baseline).some((v) => v !== undefined);
    if (judged) estimated.dip = round(d.dip);
    const held = drift.performance ?? (cr.status?.drift?.performance ? { ...cr.status.drift.performance } : { labelled: 0 });
    drift.performance = { ...held, estimated };
    if (!realized && judged) {
      drift.performance.judgedOn = 'estimated';
      Object.assign(findings, { dipLevel: d.level, dip: estimated.dip, estimated: true });
      const metrics = METRICS.filter((k) => baseline[k] !== undefined && estimated![k] !== undefined)
        .map((k) => `${k === 'auroc' ? 'AUROC' : k} ${round(estimated![k]!.value)} [${round(estimated![k]!.low)}, ${round(estimated![k]!.high)}] (baseline ${baseline[k]})`).join(', ');
      summaries.push(`estimated performance dip ${(d.dip * 100).toFixed(1)}% (CBPE, before labels): ${metrics} over ${estimated.cases} predictions`);
    }
  } else if (drift.performance === undefined && cr.status?.drift?.performance?.estimated) {
    // Too few predictions for a new estimate: the last one stands.
    drift.performance = { ...cr.status.drift.performance };
  }

  // 4. Per subgroup: each group against its own baseline; a dip in one escalates and names it.
  const groups = mon.subgroups;
  if (groups && (scored || realized)) {
    const g = judgeSubgroups({
      spec: groups, ...(scored ?? { samples: [], scores: [] }), positive: positiveOf(cr), minLabels: perf?.minLabels ?? 50, baseline, dips,
      ...(realized && f ? { labelled: f.labelled } : {}),
    });
    drift.performance = { ...(drift.performance ?? { labelled: 0 }), subgroups: g.statuses };
    // The worse of the population's and the worst group's level decides.
    if (g.statuses.some((x) => x.judged) && (findings.dipLevel === undefined || g.level > findings.dipLevel)) {
      Object.assign(findings, { dipLevel: g.level, dip: g.dip });
      if (g.estimated) findings.estimated = true;
      else delete findings.estimated;
    }
    // The groups that decide the level are said first: a person reads the cause before the context.
    if (g.level > 0 && findings.dipLevel === g.level) summaries.unshift(...g.summaries);
    else summaries.push(...g.summaries);
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
  /** The dip is from estimated performance (no fresh labels), not realized. */
  estimated?: boolean;
  summary: string;
}

/** The CBPE estimate of this check's predictions, when the model has a usable calibration (binary models). */
function estimateOf(input: DriftInput, cr: ClinicalModel, samples: readonly WindowSample[], notes: string[]): { status: EstimatedPerformanceStatus; scores: number[]; calibrated: number[] } | undefined {
  const c = input.calibration;
  if (!c) return undefined;
  if ('error' in c) {
    notes.push(`performance not estimated: ${c.error}`);
    return undefined;
  }
  const labels = cr.spec.model.labels;
  const positive = positiveOf(cr);
  if (labels.length !== 2) {
    notes.push(`performance not estimated: CBPE here is for binary models, this one has ${labels.length} labels`);
    return undefined;
  }
  if (c.positiveLabel !== positive) {
    notes.push(`performance not estimated: the calibration is for the label ${JSON.stringify(c.positiveLabel)}, the positive label is ${JSON.stringify(positive)}`);
    return undefined;
  }
  const at = labels.indexOf(positive);
  const scores = samples.map((x) => x.probabilities[at] ?? 0);
  const calibrated = c.map ? scores.map((s) => calibrate(c.map!, s)) : scores;
  const e = estimatePerformance(scores, calibrated, samples.map((x) => x.label === positive));
  const range = (r: { value: number; low: number; high: number } | undefined) => (r ? { value: round(r.value), low: round(r.low), high: round(r.high) } : undefined);
  const out: EstimatedPerformanceStatus = {
    method: `CBPE (${c.method === 'isotonic' ? 'isotonic calibration' : 'scores as calibrated'} on ${c.cases} holdout cases; assumes no concept shift)`,
    cases: e.cases,
    positiveRate: round(e.positiveRate),
  };
  for (const k of METRICS) {
    const r = range(e[k]);
    if (r) out[k] = r;
  }
  return { status: out, scores, calibrated };
}

/** The label that counts as positive: spec.monitoring.performance.positiveLabel, or the model's last. */
function positiveOf(cr: ClinicalModel): string {
  const labels = cr.spec.model.labels;
  return cr.spec.monitoring?.performance?.positiveLabel ?? labels[labels.length - 1] ?? '';
}
