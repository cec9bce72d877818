// The Population Stability Index of a current sample against a reference:
//
//   PSI = Σᵢ (Aᵢ − Eᵢ) · ln(Aᵢ / Eᵢ)
//
// Eᵢ and Aᵢ are the proportions of the reference and current samples in bin i. Bins are cut at the
// reference's quantiles i/B, i = 1 … B−1 (linear interpolation, numpy.quantile's default); the outer
// bins are open (−∞, e₁] and (e_{B−1}, +∞); every interval is closed on the right, so a value equal
// to an edge falls in the lower bin; duplicate edges (ties in the reference) are merged, so fewer than
// B bins may remain. Proportions are floored at 1e-4 so an empty bin gives a large, finite PSI.
// Throws on an empty sample, a non-finite value, or B < 2.
import { binOf } from '../contract/bins.js';
import { quantileLinearSorted } from './quantile-linear.js';
import { sortedCopy } from './ks-statistic.js';

export const PSI_FLOOR = 1e-4;

export interface PsiResult {
  psi: number;
  /** Inner bin edges after merging duplicates. */
  edges: number[];
  expected: number[];
  actual: number[];
}

function counts(sorted: Float64Array, edges: number[]): number[] {
  const out = new Array<number>(edges.length + 1).fill(0);
  for (const v of sorted) out[binOf(edges, v)]! += 1;
  return out;
}

/**
 * PSI from counts over the same bins (the server keeps per-feature counts, never values), with the
 * proportions floored at PSI_FLOOR as above.
 */
export function psiFromCounts(expectedCounts: readonly number[], actualCounts: readonly number[]): { psi: number; expected: number[]; actual: number[] } {
  if (expectedCounts.length !== actualCounts.length || expectedCounts.length === 0) {
    throw new Error(`the two count vectors must have the same, non-zero length (${expectedCounts.length}, ${actualCounts.length})`);
  }
  const ne = expectedCounts.reduce((a, b) => a + b, 0);
  const na = actualCounts.reduce((a, b) => a + b, 0);
  if (!(ne > 0) || !(na > 0)) throw new Error('each sample needs at least one value');
  const expected = expectedCounts.map((c) => Math.max(c / ne, PSI_FLOOR));
  const actual = actualCounts.map((c) => Math.max(c / na, PSI_FLOOR));
  let total = 0;
  for (let i = 0; i < expected.length; i++) total += (actual[i]! - expected[i]!) * Math.log(actual[i]! / expected[i]!);
  return { psi: total, expected, actual };
}

export function psi(reference: ArrayLike<number>, current: ArrayLike<number>, bins = 10): PsiResult {
  if (!Number.isInteger(bins) || bins < 2) throw new Error(`bins must be a whole number ≥ 2, got ${bins}`);
  const ref = sortedCopy(reference, 'the reference sample');
  const cur = sortedCopy(current, 'the current sample');
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = quantileLinearSorted(ref, i / bins);
    if (edges.length === 0 || e !== edges[edges.length - 1]) edges.push(e);
  }
  return { ...psiFromCounts(counts(ref, edges), counts(cur, edges)), edges };
}
