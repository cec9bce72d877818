// Metrics of a binary classifier on labelled cases, with 95% confidence intervals — what clinical
// acceptance judges (../shared/seeds/000_*.txt §16.4: AUROC, sensitivity, calibration).
//
// AUROC = U / (n₊ · n₋), U the Mann–Whitney statistic (ties count one half), with DeLong's variance
//   (DeLong, DeLong & Clarke-Pearson 1988) from the placement values, computed through midranks
//   (Sun & Xu 2014): V₁₀(i) = (R(xᵢ) − R₊(xᵢ)) / n₋ for each positive, V₀₁(j) = 1 − (R(yⱼ) − R₋(yⱼ)) / n₊
//   for each negative, var = s²(V₁₀)/n₊ + s²(V₀₁)/n₋; the interval is AUROC ± z·√var, clipped to [0, 1].
// Sensitivity and specificity: proportions, with the Wilson score interval (good coverage at small n
//   and near 0 or 1, where the normal approximation fails).
// ECE: Σ_b (n_b / N) · |fraction positive in b − mean probability in b| over equal-width bins of the
//   positive class's probability — scikit-learn's calibration_curve binning (edges k·(1/bins), a value
//   on an inner edge goes to the lower bin). Brier: mean (p − y)². Both with a percentile bootstrap
//   (2,000 resamples, a fixed seed: the same data gives the same interval).

export const Z95 = 1.959963984540054;

export interface Case {
  /** The probability the model gave the positive class. */
  score: number;
  /** The model's decision (its top class was the positive one). */
  predictedPositive: boolean;
  actuallyPositive: boolean;
}

export interface Estimate {
  value: number;
  low: number;
  high: number;
}

/** Midranks (1-based) of values: ties share the average of their ranks. */
export function midranks(values: readonly number[]): Float64Array {
  const order = values.map((_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(values.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && values[order[j]!] === values[order[i]!]) j++;
    const r = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) ranks[order[k]!] = r;
    i = j;
  }
  return ranks;
}

const sampleVariance = (xs: Float64Array): number => {
  if (xs.length < 2) return 0;
  let mean = 0;
  for (const x of xs) mean += x;
  mean /= xs.length;
  let ss = 0;
  for (const x of xs) ss += (x - mean) ** 2;
  return ss / (xs.length - 1);
};

/** AUROC with DeLong's interval; undefined when either class is absent. */
export function aurocDeLong(cases: readonly Case[]): Estimate | undefined {
  const pos = cases.filter((c) => c.actuallyPositive).map((c) => c.score);
  const neg = cases.filter((c) => !c.actuallyPositive).map((c) => c.score);
  const m = pos.length;
  const n = neg.length;
  if (m === 0 || n === 0) return undefined;
  const all = midranks([...pos, ...neg]);
  const rPos = midranks(pos);
  const rNeg = midranks(neg);
  const v10 = new Float64Array(m);
  const v01 = new Float64Array(n);
  let sumPos = 0;
  for (let i = 0; i < m; i++) {
    sumPos += all[i]!;
    v10[i] = (all[i]! - rPos[i]!) / n;
  }
  for (let j = 0; j < n; j++) v01[j] = 1 - (all[m + j]! - rNeg[j]!) / m;
  const auc = (sumPos - (m * (m + 1)) / 2) / (m * n);
  const se = Math.sqrt(sampleVariance(v10) / m + sampleVariance(v01) / n);
  return { value: auc, low: Math.max(0, auc - Z95 * se), high: Math.min(1, auc + Z95 * se) };
}

/** A proportion k/n with the Wilson score interval; undefined when n is 0. */
export function wilson(k: number, n: number): Estimate | undefined {
  if (n === 0) return undefined;
  const p = k / n;
  const z2 = Z95 * Z95;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return { value: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export function sensitivity(cases: readonly Case[]): Estimate | undefined {
  const pos = cases.filter((c) => c.actuallyPositive);
  return wilson(pos.filter((c) => c.predictedPositive).length, pos.length);
}

export function specificity(cases: readonly Case[]): Estimate | undefined {
  const neg = cases.filter((c) => !c.actuallyPositive);
  return wilson(neg.filter((c) => !c.predictedPositive).length, neg.length);
}

/** Expected calibration error over `bins` equal-width bins of the positive class's probability. */
export function ece(cases: readonly Case[], bins: number): number {
  const step = 1 / bins;
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  for (const c of cases) {
    // The number of inner edges k·step (k = 1 … bins−1) below the score: numpy's searchsorted, side left.
    let b = 0;
    while (b < bins - 1 && (b + 1) * step < c.score) b++;
    count[b]! += 1;
    sumP[b]! += c.score;
    sumY[b]! += c.actuallyPositive ? 1 : 0;
  }
  let e = 0;
  for (let b = 0; b < bins; b++) if (count[b]! > 0) e += (count[b]! / cases.length) * Math.abs(sumY[b]! / count[b]! - sumP[b]! / count[b]!);
  return e;
}

export function brier(cases: readonly Case[]): number {
  let s = 0;
  for (const c of cases) s += (c.score - (c.actuallyPositive ? 1 : 0)) ** 2;
  return s / cases.length;
}

/** A seeded generator of uniforms in [0, 1) (Park–Miller minimal standard), for reproducible resampling. */
export function parkMiller(seed: number): () => number {
  let state = seed % 2147483647;
  if (state <= 0) state += 2147483646;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

/** A statistic with its percentile-bootstrap 95% interval (`resamples` resamples of the cases, seeded). */
export function bootstrap(cases: readonly Case[], statistic: (cs: readonly Case[]) => number, resamples = 2000, seed = 20_161_122): Estimate {
  const value = statistic(cases);
  const uniform = parkMiller(seed);
  const stats = new Float64Array(resamples);
  const sample = new Array<Case>(cases.length);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < cases.length; i++) sample[i] = cases[Math.floor(uniform() * cases.length)]!;
    stats[r] = statistic(sample);
  }
  stats.sort();
  const at = (q: number) => stats[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))]!;
  return { value, low: at(0.025), high: at(0.975) };
}
