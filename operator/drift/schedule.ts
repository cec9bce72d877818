// When a model's next drift check is due (pure): one monitoring interval after the last check — the
// later of the one in status and the one this process ran (status may lag behind it) — or after the
// model's creation before its first check.
import type { ClinicalModel } from '../api/types.js';
import { parseDuration } from '../util/duration.js';

const DEFAULT_INTERVAL_MS = 5 * 60_000;
/** Requeues fire a little late (jitter), never early; a check this close to its time counts as due. */
const EARLY_MS = 250;

export function monitoringIntervalMs(cr: ClinicalModel): number {
  try {
    return parseDuration(cr.spec.monitoring?.interval ?? '5m');
  } catch {
    return DEFAULT_INTERVAL_MS; // the CRD validates it; this only guards objects written before that rule
  }
}

/** Time of the next check (ms). `lastCheck`: the last check this process ran for the model, if any. */
export function nextCheckDue(cr: ClinicalModel, lastCheck: number | undefined): number {
  const fromStatus = cr.status?.drift?.lastCheckTime ? Date.parse(cr.status.drift.lastCheckTime) : NaN;
  const created = cr.metadata.creationTimestamp ? Date.parse(cr.metadata.creationTimestamp) : NaN;
  const last = Math.max(Number.isNaN(fromStatus) ? -Infinity : fromStatus, lastCheck ?? -Infinity);
  const base = Number.isFinite(last) ? last : Number.isNaN(created) ? 0 : created;
  return base + monitoringIntervalMs(cr);
}

export function checkDue(cr: ClinicalModel, lastCheck: number | undefined, now: number): boolean {
  return now >= nextCheckDue(cr, lastCheck) - EARLY_MS;
}
