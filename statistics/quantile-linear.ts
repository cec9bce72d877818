// The p-quantile of sorted data with linear interpolation between order statistics: numpy.quantile's
// default method ("linear", Hyndman & Fan type 7):
//
//   h = (n − 1)·p,  Q(p) = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])      (0-based, x sorted ascending)
//
// Throws on empty data or p outside [0, 1]. (simple-statistics' quantileSorted uses another
// definition, so this one is ours.)
export function quantileLinearSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantile of an empty sample');
  if (!(p >= 0 && p <= 1)) throw new Error(`quantile probability ${p} is outside [0, 1]`);
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo]!;
  return a + (h - lo) * (sorted[hi]! - a);
}
