// The one bin convention the operator's PSI, the server's feature counts and `clinops reference` share:
// edges e₁ < … < e_k cut the line into k + 1 bins, each closed on the right — bin j is (e_j, e_{j+1}]
// with e₀ = −∞ and e_{k+1} = +∞ — so a value equal to an edge falls in the lower bin, and a value's
// bin is the number of edges below it.
import { createHash } from 'node:crypto';

/** The bin of v: the index of the first edge ≥ v (binary search). */
export function binOf(edges: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * A short digest of the bins a feature reference defines (names and edges, in order): the server
 * reports it with its counts and the operator compares it with its reference's, so counts over the
 * bins of an older reference (a pod started before the ConfigMap changed) are never judged against new ones.
 */
export function binsDigest(features: ReadonlyArray<{ name: string; edges: readonly number[] }>): string {
  return createHash('sha256').update(JSON.stringify(features.map((f) => [f.name, f.edges]))).digest('hex').slice(0, 16);
}
