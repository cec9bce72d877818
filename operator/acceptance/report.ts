// Clinical acceptance (pure): a model's results on a labelled holdout, judged against the protocol's
// thresholds (../shared/seeds/000_*.txt §16.4: AUROC ≥ 0.85, sensitivity ≥ 0.90, calibration error
// < 0.05, and the same per patient subgroup). Each metric carries its 95% interval and how it was made;
// with `lowerBound` a metric passes only when the whole interval clears the threshold (its lower bound
// for a minimum, its upper bound for a maximum), so a small holdout cannot pass by luck.
import { aurocDeLong, bootstrap, brier, type Case, ece, type Estimate, sensitivity, specificity } from '../../statistics/classification.js';

export interface Thresholds {
  minAuroc: number;
  minSensitivity: number;
  /** Optional: no specificity threshold unless given. */
  minSpecificity?: number;
  maxEce: number;
  eceBins: number;
  subgroupMinAuroc: number;
  subgroupMinSensitivity: number;
  /** Subgroups with fewer cases (or without both classes) are reported, not judged. */
  minSubgroupSize: number;
  /** Judge the interval's bound, not the point estimate. */
  lowerBound: boolean;
}

export const PROTOCOL: Thresholds = {
  minAuroc: 0.85, minSensitivity: 0.9, maxEce: 0.05, eceBins: 10,
  subgroupMinAuroc: 0.85, subgroupMinSensitivity: 0.9, minSubgroupSize: 30, lowerBound: false,
};

export type MetricName = 'auroc' | 'sensitivity' | 'specificity' | 'ece' | 'brier';

export interface MetricResult extends Estimate {
  name: MetricName;
  /** How the interval was made. */
  interval: string;
  threshold?: { kind: 'min' | 'max'; value: number; judged: 'estimate' | 'lower bound' | 'upper bound' };
  pass?: boolean;
}

export interface GroupResult {
  name: string;
  n: number;
  positives: number;
  metrics: MetricResult[];
  /** Why the group was not judged, when it was not. */
  notJudged?: string;
}

export interface AcceptanceReport {
  n: number;
  positives: number;
  positiveLabel: string;
  metrics: MetricResult[];
  subgroups: GroupResult[];
  pass: boolean;
  /** Every failing check, readable: "auroc 0.81 < 0.85", "subgroup female: sensitivity 0.84 < 0.9". */
  failures: string[];
}

const DELONG = 'DeLong';
const WILSON = 'Wilson score';
const BOOT = 'percentile bootstrap, 2000 resamples';

function judged(name: MetricName, e: Estimate | undefined, interval: string, kind?: 'min' | 'max', limit?: number, lowerBound = false): MetricResult | undefined {
  if (!e) return undefined;
  const r: MetricResult = { name, ...e, interval };
  if (kind && limit !== undefined) {
    const judgedOn = !lowerBound ? 'estimate' : kind === 'min' ? 'lower bound' : 'upper bound';
    const x = judgedOn === 'estimate' ? e.value : judgedOn === 'lower bound' ? e.low : e.high;
    r.threshold = { kind, value: limit, judged: judgedOn };
    r.pass = kind === 'min' ? x >= limit : x < limit;
  }
  return r;
}

const round = (x: number) => Number(x.toPrecision(4));

function describeFailure(m: MetricResult): string {
  const t = m.threshold!;
  const x = t.judged === 'estimate' ? m.value : t.judged === 'lower bound' ? m.low : m.high;
  const what = t.judged === 'estimate' ? m.name : `${m.name} (${t.judged} of the 95% interval)`;
  return `${what} ${round(x)} ${t.kind === 'min' ? '<' : '≥'} ${t.value}`;
}

/** Judge the cases (and, when given, each case's subgroup) against the thresholds. */
export function acceptance(cases: readonly Case[], positiveLabel: string, t: Thresholds = PROTOCOL, groups?: readonly string[]): AcceptanceReport {
  const lb = t.lowerBound;
  const metrics = [
    judged('auroc', aurocDeLong(cases), DELONG, 'min', t.minAuroc, lb),
    judged('sensitivity', sensitivity(cases), WILSON, 'min', t.minSensitivity, lb),
    judged('specificity', specificity(cases), WILSON, t.minSpecificity === undefined ? undefined : 'min', t.minSpecificity, lb),
    judged('ece', cases.length > 0 ? bootstrap(cases, (cs) => ece(cs, t.eceBins)) : undefined, `${BOOT}; ${t.eceBins} equal-width bins`, 'max', t.maxEce, lb),
    judged('brier', cases.length > 0 ? bootstrap(cases, brier) : undefined, BOOT),
  ].filter((m): m is MetricResult => m !== undefined);
  const failures = metrics.filter((m) => m.pass === false).map(describeFailure);
  const positives = cases.filter((c) => c.actuallyPositive).length;
  if (positives === 0 || positives === cases.length) failures.push(`the holdout needs both classes: it has ${positives} positive of ${cases.length}`);

  const subgroups: GroupResult[] = [];
  if (groups) {
    const byGroup = new Map<string, Case[]>();
    cases.forEach((c, i) => {
      const g = groups[i]!;
      byGroup.set(g, [...(byGroup.get(g) ?? []), c]);
    });
    for (const [name, cs] of [...byGroup].sort(([a], [b]) => a.localeCompare(b))) {
      const pos = cs.filter((c) => c.actuallyPositive).length;
      const g: GroupResult = { name, n: cs.length, positives: pos, metrics: [] };
      if (cs.length < t.minSubgroupSize) g.notJudged = `${cs.length} cases, fewer than ${t.minSubgroupSize}`;
      else if (pos === 0 || pos === cs.length) g.notJudged = `${pos} positive of ${cs.length}: AUROC needs both classes`;
      const judge = g.notJudged === undefined;
      g.metrics = [
        judged('auroc', aurocDeLong(cs), DELONG, judge ? 'min' : undefined, t.subgroupMinAuroc, lb),
        judged('sensitivity', sensitivity(cs), WILSON, judge ? 'min' : undefined, t.subgroupMinSensitivity, lb),
      ].filter((m): m is MetricResult => m !== undefined);
      for (const m of g.metrics) if (m.pass === false) failures.push(`subgroup ${name}: ${describeFailure(m)}`);
      subgroups.push(g);
    }
  }
  return { n: cases.length, positives, positiveLabel, metrics, subgroups, pass: failures.length === 0, failures };
}

/** The report as text: one line per metric and subgroup, the verdict last. */
export function formatReport(r: AcceptanceReport): string {
  const fmt = (x: number) => x.toFixed(4);
  const line = (m: MetricResult) => {
    const t = m.threshold ? `${m.threshold.kind === 'min' ? '≥' : '<'} ${m.threshold.value}${m.threshold.judged === 'estimate' ? '' : ` (${m.threshold.judged})`}` : '';
    const verdict = m.pass === undefined ? '' : m.pass ? 'pass' : 'FAIL';
    return `  ${m.name.padEnd(12)} ${fmt(m.value)}  [${fmt(m.low)}, ${fmt(m.high)}]  ${t.padEnd(24)} ${verdict.padEnd(5)} ${m.interval}`;
  };
  const out = [`acceptance on ${r.n} cases (${r.positives} positive: "${r.positiveLabel}"); 95% intervals`, ...r.metrics.map(line)];
  for (const g of r.subgroups) {
    out.push(`subgroup ${g.name}: ${g.n} cases, ${g.positives} positive${g.notJudged ? ` — not judged: ${g.notJudged}` : ''}`);
    out.push(...g.metrics.map(line));
  }
  out.push(r.pass ? 'PASS' : `FAIL: ${r.failures.join('; ')}`);
  return out.join('\n') + '\n';
}
