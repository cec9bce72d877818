// The drift verdict of one check (pure). Thresholds follow the clinical protocol: PSI below
// `moderate` is no drift, from `moderate` to `significant` moderate drift (investigate), above
// `significant` significant drift (act); a KS p-value below `pValue` is moderate drift when the KS
// statistic D is at least `ksMinStatistic` (at large n a trivial shift is significant; an effect that
// small is not drift). Too few samples is InsufficientData, never NoDrift.

export type Verdict = 'NoDrift' | 'Moderate' | 'Significant' | 'InsufficientData';

export interface DriftThresholds {
  minSamples: number;
  psiModerate: number;
  psiSignificant: number;
  ksPValue: number;
  /** The smallest KS D that counts as drift (0: the p-value alone decides). */
  ksMinStatistic: number;
}

export interface SignalStats {
  samples: number;
  psi: number;
  ksPValue: number;
  ksStatistic: number;
}

export function signalVerdict(s: SignalStats, t: DriftThresholds): Verdict {
  if (s.samples < t.minSamples) return 'InsufficientData';
  if (s.psi > t.psiSignificant) return 'Significant';
  if (s.psi >= t.psiModerate || (s.ksPValue < t.ksPValue && s.ksStatistic >= t.ksMinStatistic)) return 'Moderate';
  return 'NoDrift';
}

/** The escalation level a verdict calls for: Moderate 1, Significant 2, otherwise none. */
export function driftLevel(v: Verdict): 0 | 1 | 2 {
  return v === 'Significant' ? 2 : v === 'Moderate' ? 1 : 0;
}
