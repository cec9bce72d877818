// The exact two-sided p-value of the two-sample Kolmogorov–Smirnov test, P(D ≥ d) under the null,
// computed as scipy.stats.ks_2samp's method='exact' does:
//
// - D takes values h / lcm(n₁, n₂); d is first rounded to the nearest such value.
// - n₁ = n₂ = n: P = 2 Σₖ (−1)^{k+1} C(2n, n − kh) / C(2n, n), summed as a nested product
//   (Horner form) so no large binomial and no cancellation appears.
// - n₁ ≠ n₂: lattice paths from (0, 0) to (n₁, n₂) that leave the band |x/n₁ − y/n₂| < h / lcm
//   (Hodges' "inside" method), with the recursion rewritten to carry 1 − p column by column
//   (Viehmann 2021, arXiv:2102.08037), which stays within [0, 1] and needs no rescaling.
//
// Returns undefined when the computation is not a probability (the caller then uses the
// asymptotic distribution, as scipy does).

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export interface ExactResult {
  /** d rounded to the lattice of attainable values h / lcm(n₁, n₂). */
  d: number;
  p: number;
}

/** P(D_{n,n} ≥ h/n) for equal sample sizes. */
function equalSizes(n: number, h: number): number {
  let p = 0;
  for (let k = Math.floor(n / h); k >= 0; k--) {
    // a_k = C(2n, n − (k+1)h) / C(2n, n − kh) written as h ratios of small terms.
    let term = 1;
    for (let j = 0; j < h; j++) term = ((n - k * h - j) * term) / (n + k * h + j + 1);
    p = term * (1 - p);
  }
  return 2 * p;
}

/** 1 − P(every path stays strictly inside |n·x − m·y| < h·g), sizes m ≥ n. */
function unequalSizes(m: number, n: number, g: number, h: number): number {
  if (m < n) [m, n] = [n, m];
  const mg = m / g;
  const ng = n / g;
  // One column of the lattice at a time; only the band's window [lo, hi) of rows is kept.
  // col[r] holds, for row lo + r, the probability that a path to that point has left the band.
  let lo = 0;
  let hi = Math.min(Math.ceil(h / mg), n + 1);
  let width = hi - lo;
  const col = new Float64Array(Math.min(2 * hi + 2, n + 1)).fill(1);
  col.fill(0, lo, hi);
  for (let x = 1; x <= m; x++) {
    const prevLo = lo;
    const prevWidth = width;
    lo = Math.min(Math.max(Math.floor((ng * x - h) / mg) + 1, 0), n);
    hi = Math.min(Math.ceil((ng * x + h) / mg), n + 1);
    if (hi <= lo) return 1;
    let below = lo === 0 ? 0 : 1;
    for (let r = 0; r < hi - lo; r++) {
      const y = lo + r;
      // Paths reach (x, y) from (x−1, y) or (x, y−1), weighted by how many arrive each way.
      below = (col[r + lo - prevLo]! * x + below * y) / (x + y);
      col[r] = below;
    }
    width = hi - lo;
    if (prevWidth > width) col.fill(1, width, prevWidth);
  }
  return col[hi - lo - 1]!;
}

export function ksExactTwoSided(n1: number, n2: number, d: number): ExactResult | undefined {
  const g = gcd(n1, n2);
  const lcm = (n1 / g) * n2;
  const h = Math.round(d * lcm);
  const dl = h / lcm;
  if (h === 0) return { d: dl, p: 1 };
  const p = n1 === n2 ? equalSizes(n1, h) : unequalSizes(n1, n2, g, h);
  if (!(p >= 0 && p <= 1)) return undefined;
  return { d: dl, p };
}
