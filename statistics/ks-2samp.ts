// The two-sample Kolmogorov–Smirnov test, two-sided, as scipy.stats.ks_2samp(x, y) computes it with
// its default method: the exact distribution when the larger sample has at most 10,000 values (and
// the exact computation succeeds), otherwise the asymptotic one, P(D_n ≥ d) with
// n = round(n₁n₂ / (n₁ + n₂)) (numpy's round: halves to even).
import { kolmogorovSf } from './kolmogorov-distribution.js';
import { ksExactTwoSided } from './ks-exact.js';
import { ksStatisticSorted, sortedCopy } from './ks-statistic.js';

export const MAX_EXACT = 10_000;

export interface KsResult {
  statistic: number;
  pValue: number;
  method: 'exact' | 'asymptotic';
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function ks2samp(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const x = sortedCopy(a, 'the first sample');
  const y = sortedCopy(b, 'the second sample');
  return ksTest(ksStatisticSorted(x, y), x.length, y.length);
}

/** The test for a statistic d already computed from samples of n₁ and n₂ values (d is rounded to their lattice when exact). */
export function ksTest(d: number, n1: number, n2: number): KsResult {
  if (Math.max(n1, n2) <= MAX_EXACT) {
    const exact = ksExactTwoSided(n1, n2, d);
    if (exact) return { statistic: exact.d, pValue: exact.p, method: 'exact' };
  }
  const en = roundHalfEven((n1 * n2) / (n1 + n2));
  return { statistic: d, pValue: Math.min(1, Math.max(0, kolmogorovSf(en, d))), method: 'asymptotic' };
}
