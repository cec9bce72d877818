// Go-style durations ("90s", "5m", "1h30m", "250ms"), as the CRD and the flags accept them, and days
// ("90d") for review cadences.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in a duration such as "1h30m"; throws a message naming the input when malformed. */
export function parseDuration(s: string): number {
  const re = /(\d+)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (s.length === 0 || matched !== s.length) {
    throw new Error(`"${s}" is not a duration: use a number with ms, s, m, h or d, such as 30s, 5m, 1h30m or 90d`);
  }
  return total;
}
