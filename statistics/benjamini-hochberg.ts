// Benjamini–Hochberg adjusted p-values (the step-up procedure controlling the false discovery rate),
// as scipy.stats.false_discovery_control(ps, method='bh') computes them: with the m p-values sorted
// ascending, p₍ᵢ₎ is adjusted to min over j ≥ i of (m / j) · p₍ⱼ₎, capped at 1, and returned in the
// input order. A signal is a discovery at level q when its adjusted p-value is ≤ q. Chosen over
// Bonferroni because the signals of one model (its features, its confidence, its labels) are many and
// positively correlated, where Bonferroni would miss real drift to keep alarms rare; BH stays valid
// under that positive dependence (Benjamini & Yekutieli 2001).

export function benjaminiHochberg(ps: readonly number[]): number[] {
  for (const p of ps) {
    if (!(p >= 0 && p <= 1)) throw new Error(`p-values must lie in [0, 1], got ${p}`);
  }
  const m = ps.length;
  const order = ps.map((p, i) => [p, i] as const).sort((x, y) => x[0] - y[0]);
  const out = new Array<number>(m);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const [p, i] = order[k]!;
    running = Math.min(running, (p * m) / (k + 1));
    out[i] = running;
  }
  return out;
}
