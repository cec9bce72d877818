// Judging many drift signals of one model together (pure): the top-class confidence (KS and PSI on
// values), each input feature (PSI and KS from bin counts: the server never sends values), and the
// predicted labels (chi-square and PSI against the reference's label counts).
//
// Rules, from the clinical protocol and issue 14:
// - Each signal's p-value is adjusted with the others by Benjamini–Hochberg (with 20 features, 20 tests
//   at 0.05 would raise a false alarm in most checks; BH keeps the expected share of false discoveries
//   at the level, and holds under the positive correlation features of one patient have).
// - An effect size decides with it: PSI above `psiSignificant` is significant drift, PSI from
//   `psiModerate` moderate; an adjusted p below `ksPValue` is moderate drift only when the effect is at
//   least `ksMinStatistic` (KS D for values — the conservative lower bound for binned features — and the
//   total variation distance ½Σ|pᵢ − qᵢ| for labels, which is the same D for two classes).
// - The verdict is the worst signal's; the drivers are the drifted signals, worst first, so status and
//   Events can name them.
import { benjaminiHochberg } from '../../statistics/benjamini-hochberg.js';
import { chiSquare } from '../../statistics/chi-square.js';
import { ksBinned } from '../../statistics/ks-binned.js';
import { PSI_FLOOR, psiFromCounts } from '../../statistics/psi.js';
import type { DriftThresholds } from './verdict.js';

export type SignalKind = 'confidence' | 'feature' | 'labels';

/** One signal's statistics, before the adjustment. */
export interface SignalStatistics {
  signal: string;
  kind: SignalKind;
  psi: number;
  /** KS D (features: its lower bound from the bins) or, for labels, the total variation distance. */
  effect: number;
  pValue: number;
}

export interface SignalJudgement extends SignalStatistics {
  /** The Benjamini–Hochberg adjusted p-value. */
  adjustedP: number;
  verdict: 'NoDrift' | 'Moderate' | 'Significant';
}

/**
 * A feature from the reference's and the current window's counts over the same (fine, equal-mass)
 * bins: KS on the fine bins, whose bounds are then tight; PSI on the bins merged into `psiBins` groups
 * of equal reference mass — PSI's thresholds are calibrated for about ten bins, and on a hundred its
 * sampling noise alone is about (bins − 1) / n (0.1 for 1,000 predictions): no drift would read as drift.
 */
export function featureStatistics(signal: string, referenceCounts: readonly number[], currentCounts: readonly number[], psiBins = 10): SignalStatistics {
  const ks = ksBinned(referenceCounts, currentCounts);
  const [ref, cur] = mergeBins(referenceCounts, currentCounts, psiBins);
  return { signal, kind: 'feature', psi: psiFromCounts(ref, cur).psi, effect: ks.lower.statistic, pValue: ks.lower.pValue };
}

/** Merge consecutive bins into `groups` groups of (as nearly as the bins allow) equal reference mass. */
export function mergeBins(reference: readonly number[], current: readonly number[], groups: number): [number[], number[]] {
  const total = reference.reduce((a, b) => a + b, 0);
  const ref: number[] = [];
  const cur: number[] = [];
  let seen = 0;
  let r = 0;
  let c = 0;
  for (let i = 0; i < reference.length; i++) {
    r += reference[i]!;
    c += current[i]!;
    seen += reference[i]!;
    if (seen * groups >= total * (ref.length + 1) || i === reference.length - 1) {
      ref.push(r);
      cur.push(c);
      r = 0;
      c = 0;
    }
  }
  return [ref, cur];
}

/** The predicted labels' counts against the reference's, category by category (the same order). */
export function labelStatistics(referenceCounts: readonly number[], currentCounts: readonly number[]): SignalStatistics {
  const nr = referenceCounts.reduce((a, b) => a + b, 0);
  const nc = currentCounts.reduce((a, b) => a + b, 0);
  let tv = 0;
  referenceCounts.forEach((r, i) => (tv += Math.abs(r / nr - currentCounts[i]! / nc)));
  return {
    signal: 'labels', kind: 'labels', psi: psiFromCounts(referenceCounts, currentCounts).psi, effect: tv / 2,
    // A label the reference never predicted gets a floor, as PSI's bins do, rather than an infinite statistic.
    pValue: chiSquare(currentCounts, referenceCounts.map((r) => Math.max(r, PSI_FLOOR * nr))).pValue,
  };
}

export function judgeSignals(signals: readonly SignalStatistics[], t: Omit<DriftThresholds, 'minSamples'>): { verdict: 'NoDrift' | 'Moderate' | 'Significant'; signals: SignalJudgement[]; drivers: SignalJudgement[] } {
  const adjusted = benjaminiHochberg(signals.map((s) => s.pValue));
  const judged = signals.map((s, i): SignalJudgement => {
    const q = adjusted[i]!;
    const verdict = s.psi > t.psiSignificant ? 'Significant'
      : s.psi >= t.psiModerate || (q < t.ksPValue && s.effect >= t.ksMinStatistic) ? 'Moderate' : 'NoDrift';
    return { ...s, adjustedP: q, verdict };
  });
  const rank = { Significant: 2, Moderate: 1, NoDrift: 0 } as const;
  const drivers = judged.filter((s) => s.verdict !== 'NoDrift')
    .sort((a, b) => rank[b.verdict] - rank[a.verdict] || b.psi - a.psi || b.effect - a.effect);
  return { verdict: drivers[0]?.verdict ?? 'NoDrift', signals: judged, drivers };
}
