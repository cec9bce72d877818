// Decisions about findings (pure): a named reviewer's decision in spec.governance.decisions — accept a
// finding with a reason and an expiry, or record that it was acted on or sent for retraining. An Accept in
// force stops findings of its kind up to its level from raising the escalation level (and from repeating
// their Warning Events) until it expires; a worse finding escalates as ever. Status keeps every decision
// with when it was first seen, so the record says who decided what, when and why — including not to act.
import type { ClinicalModel, Decision, DecisionRecord } from '../api/types.js';
import type { CheckFindings } from '../drift/judge.js';

/** The highest level each kind of finding is accepted up to now, if any. */
export interface Accepted {
  drift?: number;
  performance?: number;
}

const HISTORY = 20;

const expiresAt = (d: Decision) => (d.until ? Date.parse(d.until) : NaN);

/** The Accept decisions in force at `now`. */
export function acceptedNow(cr: ClinicalModel, now: number): Accepted {
  const out: Accepted = {};
  for (const d of cr.spec.governance?.decisions ?? []) {
    if (d.decision !== 'Accept' || !(expiresAt(d) > now)) continue;
    const kind = d.finding === 'Drift' ? 'drift' : 'performance';
    out[kind] = Math.max(out[kind] ?? 0, d.upToLevel ?? 1);
  }
  return out;
}

/** The findings with what is accepted taken out: an accepted kind at or below its level calls for no level. */
export function withoutAccepted(f: CheckFindings, accepted: Accepted): CheckFindings & { accepted?: Array<'Drift' | 'Performance'> } {
  const out: CheckFindings & { accepted?: Array<'Drift' | 'Performance'> } = { ...f };
  const taken: Array<'Drift' | 'Performance'> = [];
  if (accepted.drift !== undefined && (f.driftLevel ?? 0) > 0 && f.driftLevel! <= accepted.drift) {
    out.driftLevel = 0;
    taken.push('Drift');
  }
  if (accepted.performance !== undefined && (f.dipLevel ?? 0) > 0 && f.dipLevel! <= accepted.performance) {
    out.dipLevel = 0;
    taken.push('Performance');
  }
  if (taken.length > 0) out.accepted = taken;
  return out;
}

const identity = (d: Decision) => JSON.stringify([d.reviewer, d.finding, d.decision, d.reason, d.until ?? '', d.upToLevel ?? 1]);

/** status.decisions: every decision in the spec and those recorded before (the last 20), each with when it was first seen. */
export function decisionRecords(cr: ClinicalModel, now: string): DecisionRecord[] | undefined {
  const previous = cr.status?.decisions ?? [];
  const spec = cr.spec.governance?.decisions ?? [];
  if (spec.length === 0 && previous.length === 0) return undefined;
  const byId = new Map(previous.map((r) => [identity(r), r]));
  const records = [...previous];
  for (const d of spec) {
    if (byId.has(identity(d))) continue;
    const r: DecisionRecord = { reviewer: d.reviewer, finding: d.finding, decision: d.decision, reason: d.reason, ...(d.until ? { until: d.until } : {}),
      ...(d.decision === 'Accept' ? { upToLevel: d.upToLevel ?? 1 } : {}), seenAt: now };
    records.push(r);
    byId.set(identity(d), r);
  }
  const t = Date.parse(now);
  const inSpec = new Set(spec.map(identity));
  return records.slice(-HISTORY).map((r) => {
    const { active: _, ...rest } = r;
    return r.decision === 'Accept' && inSpec.has(identity(r)) && expiresAt(r) > t ? { ...rest, active: true } : rest;
  });
}
