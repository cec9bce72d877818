// The one bin convention the operator's PSI, the server's feature counts and `clinops reference` share:
// edges e₁ < … < e_k cut the line into k + 1 bins, each closed on the right — bin j is (e_j, e_{j+1}]
// with e₀ = −∞ and e_{k+1} = +∞ — so a value equal to an edge falls in the lower bin, and a value's
// bin is the number of edges below it.

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
