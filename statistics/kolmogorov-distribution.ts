// The distribution of the one-sample two-sided Kolmogorov–Smirnov statistic D_n for finite n:
// kolmogorovSf(n, x) = P(D_n ≥ x), what scipy.stats.kstwo.sf(x, n) computes, and what
// scipy.stats.ks_2samp uses for large samples (with n = round(n₁n₂/(n₁+n₂))).
//
// Following Simard & L'Ecuyer (2011), "Computing the two-sided Kolmogorov–Smirnov distribution",
// the method depends on the region of (n, x):
// - the Ruben–Gambino closed forms near x ≤ 1/n and x ≥ 1 − 1/n;
// - 2·P(D_n⁺ ≥ x), the one-sided tail doubled, where the two tails cannot both be crossed (x ≥ ½)
//   or where that is accurate to double precision (n x² ≥ 2.2 for n > 140; see smirnovSf);
// - for n ≤ 140: Durbin's matrix method (n x² ≤ 0.754693) or Pomeranz's recursion (n x² ≤ 4);
// - for n > 140: 1 − CDF with Durbin's matrix method (n ≤ 10⁵ and n x^{3/2} ≤ 1.4), else the
//   Pelz–Good asymptotic series.
// Results are clipped to [0, 1].

const E128 = 2 ** 128;
const EM128 = 2 ** -128;
const SQRT2PI = Math.sqrt(2 * Math.PI);
const PI2 = Math.PI ** 2;
const PI4 = Math.PI ** 4;
const PI6 = Math.PI ** 6;

const clip = (p: number) => Math.min(1, Math.max(0, p));

/** ln(n! / nⁿ) by Stirling's series, with n ln n removed up front to avoid cancellation. */
function logFactorialOverPower(n: number): number {
  const r = 1 / n;
  const r2 = r * r;
  // Σ B₂ⱼ / (2j(2j−1)) / n^{2j−1}, j = 1 … 8, in Horner form.
  const series = r * (1 / 12 + r2 * (-1 / 360 + r2 * (1 / 1260 + r2 * (-1 / 1680 + r2 * (1 / 1188 + r2 * (-691 / 360360 + r2 * (1 / 156 + r2 * (-3617 / 122400))))))));
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + series;
}

/**
 * P(D_n⁺ ≥ x), the one-sided statistic's upper tail, by the Birnbaum–Tingey sum
 *   x · Σ_{j=0}^{⌊n(1−x)⌋} C(n, j) (1 − x − j/n)^{n−j} (x + j/n)^{j−1},
 * each term in logarithms, summed relative to the largest.
 */
export function smirnovSf(n: number, x: number): number {
  if (x <= 0) return 1;
  if (x >= 1) return 0;
  const last = Math.floor(n * (1 - x) + 1e-9);
  const logs = new Float64Array(last + 1);
  let logBinom = 0; // ln C(n, 0)
  let max = -Infinity;
  for (let j = 0; j <= last; j++) {
    if (j > 0) logBinom += Math.log((n - j + 1) / j);
    const a = 1 - x - j / n;
    const b = x + j / n;
    const t = n - j === 0 ? 0 : a <= 0 ? -Infinity : (n - j) * Math.log(a);
    const l = logBinom + t + (j - 1) * Math.log(b);
    logs[j] = l;
    if (l > max) max = l;
  }
  if (max === -Infinity) return 0;
  let sum = 0;
  for (let j = 0; j <= last; j++) sum += Math.exp(logs[j]! - max);
  return clip(x * Math.exp(max + Math.log(sum)));
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const c = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) c[i * m + j]! += aik * b[k * m + j]!;
    }
  }
  return c;
}

/** P(D_n ≤ d) by Durbin's matrix method as Marsaglia, Tsang & Wang (2003) compute it. */
export function kolmogorovCdfDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  // H: ones on and below the first superdiagonal divided by factorials, first column and last row
  // corrected for the fractional part h.
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  v[m - 1] = (1 + (Math.max(2 * h - 1, 0) ** m - 2 * h ** m)) * fac;
  let H: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - (i - 1)]!;
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r]!;
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c]!;

  let P: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) P[i * m + i] = 1;
  let exponent = 0;
  let hExponent = 0;
  for (let e = n; e > 0; e = Math.floor(e / 2)) {
    if (e % 2) {
      P = matmul(P, H, m);
      exponent += hExponent;
    }
    H = matmul(H, H, m);
    hExponent *= 2;
    if (Math.abs(H[(k - 1) * m + (k - 1)]!) > E128) {
      for (let i = 0; i < H.length; i++) H[i]! /= E128;
      hExponent += 128;
    }
  }
  let p = P[(k - 1) * m + (k - 1)]!;
  for (let i = 1; i <= n; i++) {
    p = (i * p) / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      exponent -= 128;
    }
  }
  return clip(p * 2 ** exponent);
}

/** P(D_n ≤ x) by Pomeranz's recursion (1974): convolutions of near-Poisson weights, row by row. */
export function kolmogorovCdfPomeranz(n: number, x: number): number {
  const t = n * x;
  const ll = Math.floor(t);
  const f = t - ll;
  const g = Math.min(f, 1 - f);
  const ceilf = f > 0 ? 1 : 0;
  const roundf = f > 0.5 ? 1 : 0;
  const npwrs = 2 * (ll + 1);
  const weights = (step: number) => {
    const out = new Float64Array(npwrs);
    out[0] = 1;
    for (let i = 1; i < npwrs; i++) out[i] = (out[i - 1]! * step) / i;
    return out;
  };
  const gpow = weights(g / n);
  const twogpow = weights((2 * g) / n);
  const onem2gpow = weights((1 - 2 * g) / n);
  const range = (i: number): [number, number] => {
    let j1: number;
    let j2: number;
    if (i === 0) {
      j1 = -ll - ceilf - 1;
      j2 = ll + ceilf - 1;
    } else {
      const half = Math.floor((i + 1) / 2);
      if ((i + 1) % 2 === 0) {
        if (half === n + 1) {
          j1 = n - ll - ceilf - 1;
          j2 = n + ll + ceilf - 1;
        } else {
          j1 = half - 1 - ll - roundf - 1;
          j2 = half + ll - 1 + ceilf - 1;
        }
      } else {
        j1 = half - 1 - ll - 1;
        j2 = half + ll + roundf - 1;
      }
    }
    return [Math.max(j1 + 2, 0), Math.min(j2, n)];
  };

  let V0 = new Float64Array(npwrs);
  let V1 = new Float64Array(npwrs);
  V1[0] = 1;
  let V0s = 0;
  let V1s = 0;
  let exponent = 0;
  let [j1, j2] = range(0);
  for (let i = 1; i < 2 * n + 2; i++) {
    const k1 = j1;
    [V0, V1] = [V1, V0];
    [V0s, V1s] = [V1s, V0s];
    V1.fill(0);
    [j1, j2] = range(i);
    const pw = i === 1 || i === 2 * n + 1 ? gpow : i % 2 ? twogpow : onem2gpow;
    const len = j2 - k1 + 1;
    if (len > 0) {
      // Entries j1−k1 … j2−k1 of the convolution of V0[k1−V0s …] with the weights.
      let top = 0;
      for (let c = j1 - k1; c <= j2 - k1; c++) {
        let s = 0;
        for (let a = Math.max(0, c - (len - 1)); a <= Math.min(c, len - 1); a++) s += (V0[k1 - V0s + a] ?? 0) * (pw[c - a] ?? 0);
        V1[c - (j1 - k1)] = s;
        if (s > top) top = s;
      }
      if (top > 0 && top < EM128) {
        for (let q = 0; q < V1.length; q++) V1[q]! *= E128;
        exponent -= 128;
      }
      V1s = V0s + j1 - k1;
    }
  }
  let ans = V1[n - V1s]!;
  for (let i = 1; i <= n; i++) {
    if (Math.abs(ans) > E128) {
      ans *= EM128;
      exponent += 128;
    }
    ans *= i;
  }
  return clip(ans * 2 ** exponent);
}

/** P(D_n ≤ x) by the Pelz–Good (1976) series in z = x√n, valid for large n. */
export function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const z = Math.sqrt(n) * x;
  const z2 = z * z;
  const z4 = z2 * z2;
  const z6 = z4 * z2;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  const q = Math.exp(qlog);
  const k1a = -z2;
  const k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = ((2 * z4 - 5 * z2) * PI2) / 4;
  const k2c = (PI4 * (1 - 2 * z2)) / 16;
  const k3d = (PI6 * (5 - 30 * z2)) / 64;
  const k3c = (PI4 * (-60 * z2 + 212 * z4)) / 16;
  const k3b = (PI2 * (135 * z4 - 96 * z6)) / 4;
  const k3a = -30 * z6 - 90 * z4 * z4;
  // Σ over odd m = 2k−1 of coefficient(m) · q^{m²}, in Horner form in q^{8k}.
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil((16 * z) / Math.PI);
  for (let k = maxk; k >= 1; k--) {
    const m = 2 * k - 1;
    const m2 = m * m;
    const qp = q ** (8 * k);
    const c = [1, k1a + k1b * m2, k2a + k2b * m2 + k2c * m2 * m2, k3a + k3b * m2 + k3c * m2 * m2 + k3d * m2 * m2 * m2];
    for (let i = 0; i < 4; i++) K[i] = K[i]! * qp + c[i]!;
  }
  const denom = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = (K[i]! * q * SQRT2PI) / denom[i]!;
  // Terms over all integers k for K₂ and K₃.
  const q2 = Math.exp(-PI2 / 2 / z2);
  let s2 = 0;
  let s3 = 0;
  const sqrt3z = Math.sqrt(3) * z;
  for (let k = maxk; k >= 1; k--) {
    const k2 = k * k;
    const qp = q2 ** k2;
    s2 += k2 * qp;
    const kpi = Math.PI * k;
    s3 += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qp;
  }
  K[2]! += (s2 * PI2 * SQRT2PI) / (-36 * z2 * z);
  K[3]! += (s3 * PI2 * SQRT2PI) / (216 * z6);
  return K[0]! + K[1]! / Math.sqrt(n) + K[2]! / n + K[3]! / (n * Math.sqrt(n));
}

/** P(D_n ≥ x) for integer n ≥ 1. */
export function kolmogorovSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a whole number ≥ 1, got ${n}`);
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    const cdf = n <= 140
      ? Array.from({ length: n }, (_, i) => ((i + 1) / n) * (2 * t - 1)).reduce((a, b) => a * b, 1)
      : Math.exp(logFactorialOverPower(n) + n * Math.log(2 * t - 1));
    return clip(1 - cdf);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    if (nx2 <= 0.754693) return clip(1 - kolmogorovCdfDurbin(n, x));
    if (nx2 <= 4) return clip(1 - kolmogorovCdfPomeranz(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x));
  const cdf = n <= 100000 && n * x ** 1.5 <= 1.4 ? kolmogorovCdfDurbin(n, x) : kolmogorovCdfPelzGood(n, x);
  return clip(1 - cdf);
}
