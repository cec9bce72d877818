// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a) (scipy.special.gammaincc),
// for a > 0, x ≥ 0: by its power series for P = 1 − Q when x < a + 1, and by its continued fraction
// (modified Lentz) otherwise, each to a relative 1e-15; ln Γ by the Lanczos approximation (g = 7,
// 9 coefficients, ~1e-15 relative). Q is the chi-square survival function: P(χ²_ν ≥ s) = Q(ν/2, s/2).

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function lnGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * z))) - lnGamma(1 - z);
  const x = z - 1;
  let a = LANCZOS[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new Error(`Q(a, x) needs a > 0 and x ≥ 0, got a=${a}, x=${x}`);
  if (x === 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const lnPrefix = a * Math.log(x) - x - lnGamma(a);
  if (x < a + 1) {
    // P(a, x) = x^a e^−x / Γ(a+1) · Σ xⁿ / ((a+1)…(a+n))
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-15) break;
    }
    return Math.max(0, 1 - Math.exp(lnPrefix) * sum);
  }
  // Q(a, x) = x^a e^−x / Γ(a) · 1 / (x + 1 − a − 1·(1−a) / (x + 3 − a − 2·(2−a) / (x + 5 − a − …)))
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return Math.min(1, Math.exp(lnPrefix) * h);
}
