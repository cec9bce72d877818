// The two-sample Kolmogorov–Smirnov test when only bin counts are known (the inference server keeps
// per-feature counts over the reference's bin edges, never the values), as two bounds on what the test
// on the raw values would give.
//
// With edges e₁ < … < e_{k−1} splitting the line into k bins (bin j is (e_{j−1}, e_j], e₀ = −∞, e_k = +∞)
// and Fₐ, F_b the two empirical CDFs, the counts give Fₐ and F_b exactly at every edge. Between two edges
// both CDFs only rise, so for x in bin j:
//   Fₐ(x) − F_b(x) ≤ Fₐ(e_j) − F_b(e_{j−1})   and   F_b(x) − Fₐ(x) ≤ F_b(e_j) − Fₐ(e_{j−1}).
// Hence, with D the statistic on the raw values,
//   D_lower = max_j |Fₐ(e_j) − F_b(e_j)|  ≤  D  ≤  D_upper = max_j max(Fₐ(e_j) − F_b(e_{j−1}), F_b(e_j) − Fₐ(e_{j−1})),
// and, the p-value falling as D grows, p(D_upper) ≤ p ≤ p(D_lower). D_upper − D_lower is at most the
// largest bin's share of either sample: with 100 reference quantile bins, about 0.01 plus the drift
// itself. A drift verdict taken on D_lower and p(D_lower) is conservative: it never alarms where the
// raw-value test would not.
import { type KsResult, ksTest } from './ks-2samp.js';

export interface BinnedKs {
  lower: KsResult;
  upper: KsResult;
}

/** Counts per bin, the same k bins for both samples (k ≥ 1); throws on mismatched or empty counts. */
export function ksBinned(a: readonly number[], b: readonly number[]): BinnedKs {
  if (a.length !== b.length || a.length === 0) throw new Error(`the two count vectors must have the same, non-zero length (${a.length}, ${b.length})`);
  const na = sum(a, 'the first counts');
  const nb = sum(b, 'the second counts');
  if (na === 0 || nb === 0) throw new Error('each sample needs at least one value');
  let fa = 0;
  let fb = 0;
  let lower = 0;
  let upper = 0;
  for (let j = 0; j < a.length; j++) {
    const prevA = fa;
    const prevB = fb;
    fa += a[j]! / na;
    fb += b[j]! / nb;
    lower = Math.max(lower, Math.abs(fa - fb));
    upper = Math.max(upper, fa - prevB, fb - prevA);
  }
  // Rounding in the running sums must not push a bound outside [0, 1].
  const clamp = (d: number) => Math.min(1, Math.max(0, d));
  return { lower: ksTest(clamp(lower), na, nb), upper: ksTest(clamp(upper), na, nb) };
}

function sum(xs: readonly number[], what: string): number {
  let s = 0;
  for (const x of xs) {
    if (!Number.isInteger(x) || x < 0) throw new Error(`${what} must be whole numbers ≥ 0, got ${x}`);
    s += x;
  }
  return s;
}
