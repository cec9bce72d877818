// The drift verdict of one check (pure). Thresholds follow the clinical protocol: PSI below
// `moderate` is no drift, from `moderate` to `significant` moderate drift (investigate), above
// `significant` significant drift (act); a KS p-value below `pValue` is moderate drift. Too few
// samples is InsufficientData, never NoDrift.

export type Verdict = 'NoDrift' | 'Moderate' | 'Significant' | 'InsufficientData';

export interface DriftThresholds {
  minSamples: number;
  psiModerate: number;
  psiSignificant: number;
  ksPValue: number;
}

export interface SignalStats {
  samples: number;
  psi: number;
  ksPValue: number;
}

export function signalVerdict(s: SignalStats, t: DriftThresholds): Verdict {
  if (s.samples < t.minSamples) return 'InsufficientData';
  if (s.psi > t.psiSignificant) return 'Significant';
  if (s.psi >= t.psiModerate || s.ksPValue < t.ksPValue) return 'Moderate';
  return 'NoDrift';
}

/** The escalation level a verdict calls for: Moderate 1, Significant 2, otherwise none. */
export function driftLevel(v: Verdict): 0 | 1 | 2 {
  return v === 'Significant' ? 2 : v === 'Moderate' ? 1 : 0;
}
