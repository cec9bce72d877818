// Performance per subgroup (pure): a site or a ward whose performance dips is averaged away in the whole
// population, so each declared group (spec.monitoring.subgroups, named by a request header) is judged on
// its own, against its own baseline. Without fresh labels its performance is estimated (CBPE, as for the
// population); once the group has minLabels labelled predictions in the sliding window, labels win.
// Several groups judged at once are several tests: each estimate's range is widened to 1 − 0.05 / groups
// (Bonferroni), and a group's dip is taken at the optimistic end of its ranges — it escalates only when
// even that end dips. A group with fewer than minCases predictions in the check is reported, not judged.
import type { WindowSample } from '../../contract/monitoring.js';
import type { EstimateRange, SubgroupPerformanceStatus, SubgroupSpec } from '../api/types.js';
import { estimatePerformance } from '../../statistics/cbpe.js';
import type { StoredPrediction } from './input.js';
import { type DipThresholds, dipOf, type PerformanceBaseline, performance } from './performance.js';

export interface SubgroupJudgement {
  statuses: SubgroupPerformanceStatus[];
  /** The worst group's level and dip, and what a person reads about each group that dipped. */
  level: 0 | 1 | 2;
  dip: number;
  estimated: boolean;
  summaries: string[];
}

export interface SubgroupInput {
  spec: SubgroupSpec;
  /** This check's predictions, with their positive-label score calibrated (undefined: no usable calibration). */
  samples: readonly WindowSample[];
  scores: readonly number[];
  calibrated?: readonly number[];
  positive: string;
  /** The sliding window of labelled predictions, when labels were judged in this check. */
  labelled?: readonly StoredPrediction[];
  minLabels: number;
  baseline: PerformanceBaseline;
  dips: DipThresholds;
}

const METRICS = ['auroc', 'sensitivity', 'specificity'] as const;
const round = (x: number) => Number(x.toPrecision(6));
const rangeOf = (r: EstimateRange | undefined) => (r ? { value: round(r.value), low: round(r.low), high: round(r.high) } : undefined);

export function judgeSubgroups(input: SubgroupInput): SubgroupJudgement {
  const { spec, samples, scores, calibrated, positive, dips } = input;
  const minCases = spec.minCases ?? 100;
  const coverage = 1 - 0.05 / spec.groups.length;
  const out: SubgroupJudgement = { statuses: [], level: 0, dip: 0, estimated: false, summaries: [] };
  for (const g of spec.groups) {
    const baseline = g.baseline ?? input.baseline;
    const at = samples.flatMap((x, i) => (x.subgroup === g.name ? [i] : []));
    const status: SubgroupPerformanceStatus = { name: g.name, cases: at.length, judged: false };
    out.statuses.push(status);
    const labelled = input.labelled?.filter((x) => x.subgroup === g.name);
    let level: 0 | 1 | 2 | undefined;
    let dip = 0;
    let text = '';
    if (labelled && labelled.length >= input.minLabels) {
      const r = performance(labelled.map((x) => ({ positiveScore: x.score, predictedPositive: x.predicted === positive, actuallyPositive: x.truth === positive })), baseline, input.minLabels, dips);
      status.realized = { labelled: labelled.length, ...Object.fromEntries(METRICS.flatMap((k) => (r[k] !== undefined ? [[k, round(r[k]!)]] : []))) };
      status.judgedOn = 'realized';
      ({ level, dip } = r);
      text = `performance dip ${(dip * 100).toFixed(1)}% in subgroup ${g.name}: ${METRICS.filter((k) => baseline[k] !== undefined && r[k] !== undefined)
        .map((k) => `${name(k)} ${round(r[k]!)} (baseline ${baseline[k]})`).join(', ')} over its last ${labelled.length} labelled predictions`;
    }
    if (calibrated && at.length >= minCases) {
      const e = estimatePerformance(at.map((i) => scores[i]!), at.map((i) => calibrated[i]!), at.map((i) => samples[i]!.label === positive), 1000, 20_261_205, coverage);
      status.estimated = Object.fromEntries(METRICS.flatMap((k) => (e[k] ? [[k, rangeOf(e[k])]] : [])));
      if (level === undefined) {
        const d = dipOf({ auroc: e.auroc?.high, sensitivity: e.sensitivity?.high, specificity: e.specificity?.high }, baseline, dips);
        ({ level, dip } = d);
        status.judgedOn = 'estimated';
        text = `estimated performance dip ≥ ${(dip * 100).toFixed(1)}% in subgroup ${g.name} (CBPE, before labels; ranges ${(coverage * 100).toPrecision(3)}% for ${spec.groups.length} groups): ` +
          `${METRICS.filter((k) => baseline[k] !== undefined && e[k] !== undefined).map((k) => `${name(k)} ${round(e[k]!.value)} [${round(e[k]!.low)}, ${round(e[k]!.high)}] (baseline ${baseline[k]})`).join(', ')} over ${at.length} predictions`;
      }
    }
    if (level === undefined) continue;
    Object.assign(status, { judged: true, dip: round(dip), level });
    if (level > 0) out.summaries.push(text);
    if (level > out.level || (level === out.level && dip > out.dip)) Object.assign(out, { level, dip: round(dip), estimated: status.judgedOn === 'estimated' });
  }
  return out;
}

const name = (k: (typeof METRICS)[number]) => (k === 'auroc' ? 'AUROC' : k);
