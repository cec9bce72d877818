// Pearson's chi-square goodness-of-fit test of observed counts against expected proportions, as
// scipy.stats.chisquare(f_obs, f_exp) computes it with f_exp = proportions · Σ f_obs:
//   χ² = Σᵢ (Oᵢ − Eᵢ)² / Eᵢ,  df = k − 1,  p = Q(df/2, χ²/2),
// Q the regularized upper incomplete gamma function. For label shift: the predicted labels' counts
// against the reference's label proportions. A category the reference never saw (Eᵢ = 0) makes the
// statistic infinite when it is observed; such categories are refused rather than silently dropped.
import { regularizedGammaQ } from './incomplete-gamma.js';

export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
}

export function chiSquare(observed: readonly number[], expectedProportions: readonly number[]): ChiSquareResult {
  const k = observed.length;
  if (k < 2 || expectedProportions.length !== k) throw new Error(`need at least two categories and one proportion per category (${k}, ${expectedProportions.length})`);
  const n = observed.reduce((s, x) => s + x, 0);
  const total = expectedProportions.reduce((s, x) => s + x, 0);
  if (!(n > 0)) throw new Error('no observations');
  let stat = 0;
  for (let i = 0; i < k; i++) {
    const e = (expectedProportions[i]! / total) * n;
    if (!(e > 0)) throw new Error(`category ${i} has no expected count; give it a reference proportion above 0`);
    stat += (observed[i]! - e) ** 2 / e;
  }
  const df = k - 1;
  return { statistic: stat, df, pValue: regularizedGammaQ(df / 2, stat / 2) };
}
