// The two-sample Kolmogorov–Smirnov statistic.
//
//   D = sup_x |F₁(x) − F₂(x)|
//
// with right-continuous empirical CDFs F(x) = #{xᵢ ≤ x} / n, evaluated at every observed value, as
// scipy.stats.ks_2samp does (its searchsorted(…, side='right')). Ties within or across the samples
// are handled by stepping past every copy of a value before comparing the CDFs. O((n+m) log(n+m)):
// two sorts and one merge. Throws on an empty sample or a non-finite value.

export function sortedCopy(values: ArrayLike<number>, name: string): Float64Array {
  if (values.length === 0) throw new Error(`${name} is empty: the Kolmogorov–Smirnov test needs at least one value`);
  const out = Float64Array.from(values);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) throw new Error(`${name}[${i}] is not a finite number`);
  }
  return out.sort();
}

/** D for two samples already sorted ascending. */
export function ksStatisticSorted(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  const m = b.length;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const x = a[i]! <= b[j]! ? a[i]! : b[j]!;
    while (i < n && a[i] === x) i++;
    while (j < m && b[j] === x) j++;
    const diff = Math.abs(i / n - j / m);
    if (diff > d) d = diff;
  }
  // Past the end of one sample the other's CDF only rises towards 1, so the gap only shrinks.
  return d;
}

export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return ksStatisticSorted(sortedCopy(a, 'the first sample'), sortedCopy(b, 'the second sample'));
}
