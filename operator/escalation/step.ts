// The escalation part of a reconcile pass (pure, synchronous): feed the judged check's findings (when
// one ran), any reported patient-safety event and the spec's acknowledgement to the escalation state
// machine, and say what to write (status.drift, status.escalation) and announce (Events). The state
// lives in status, so a restarted operator continues where the last one stopped.
import { servedModel } from '../serving/versions.js';
import type { EventReason } from '../api/reasons.js';
import type { ClinicalModel, DriftStatus, EscalationStatus, IncidentRecord } from '../api/types.js';
import type { Judgement } from '../drift/judge.js';
import { monitoringIntervalMs } from '../drift/schedule.js';
import { jsonEqual } from '../util/json-equal.js';
import { rfc3339 } from '../util/time.js';
import { levelPolicy } from '../api/levels.js';
import { acceptedNow, withoutAccepted } from './decisions.js';
import { nextEscalation } from './machine.js';
import { escalationPolicy, safetyEvents, stateFromStatus, statusFromState } from './state.js';

export interface Announcement {
  type: 'Normal' | 'Warning';
  reason: EventReason;
  message: string;
}

export interface EscalationStep {
  drift: DriftStatus | undefined;
  escalation: EscalationStatus;
  /** status.drift or status.escalation differs from what the object has. */
  changed: boolean;
  /** The level changed in this pass. */
  transitioned: boolean;
  announcements: Announcement[];
  /** When to look again for the next check. */
  requeueAfterMs: number;
  /** The acknowledgement refused in this pass, keyed so it is announced once. */
  refusedAcknowledgement?: { key: string; message: string };
}

export interface StepInput {
  now: number;
  /** The check judged in this pass, when one was due. */
  judgement?: Judgement;
  /** When the next check is due (ms) if none ran in this pass. */
  nextCheckDue: number;
  /** A number in [0, 1) for the jitter. */
  random: number;
}

export function escalationStep(cr: ClinicalModel, input: StepInput): EscalationStep {
  const { now, judgement } = input;
  const interval = monitoringIntervalMs(cr);
  const announcements: Announcement[] = [];
  // A finding a reviewer accepted (spec.governance.decisions, in force, not worse) raises no level and repeats no Warning.
  const findings = judgement?.findings ? withoutAccepted(judgement.findings, acceptedNow(cr, now)) : undefined;
  if (judgement) {
    const d = judgement.drift;
    if ((d.verdict === 'Moderate' || d.verdict === 'Significant') && !findings?.accepted?.includes('Drift')) {
      announcements.push({ type: 'Warning', reason: 'DriftDetected', message: `${findings?.summary ?? d.verdict}` });
    }
    if ((findings?.dipLevel ?? 0) > 0) {
      announcements.push({ type: 'Warning', reason: 'PerformanceDip', message: findings!.summary });
    }
  }

  const prev = stateFromStatus(cr.status?.escalation);
  const result = nextEscalation(prev, {
    check: findings,
    safetyEvents: safetyEvents(cr),
    acknowledgement: cr.spec.escalation?.acknowledgement,
    // What serves (the last accepted version while a newer one has not passed the gates): what a shutdown stops.
    sha256: served(cr).sha256,
    now,
    policy: escalationPolicy(cr),
  });

  let incident = cr.status?.escalation?.incident;
  let incidents = cr.status?.escalation?.incidents ?? [];
  const t = result.transition;
  if (t) {
    const action = levelPolicy(cr.spec.escalation, t.to)?.action;
    if (t.to > t.from) {
      const due = result.state.reviewDueBy ? `; review due by ${result.state.reviewDueBy}` : '';
      announcements.push({ type: 'Warning', reason: 'Escalated', message: `level ${t.from} → ${t.to} (${action}): ${t.reason}${due}` });
    } else {
      announcements.push({ type: 'Normal', reason: 'Acknowledged', message: `level ${t.from} → ${t.to}: ${t.reason}` });
    }
    if (t.to > t.from && t.to >= 2) {
      // Level 2 is an automatic action on the model's own findings, level 3 a reported harm: both are
      // incidents someone must close, by name.
      incident = incidentRecord(cr, t.to, t.reason, now, incidents);
      incidents = [...incidents, incident].slice(-MAX_INCIDENTS);
      const what = t.to === 3 ? 'shut down' : `at level 2 (${action})`;
      announcements.push({ type: 'Warning', reason: 'IncidentOpened',
        message: `incident ${incident.id}: model ${incident.modelVersion} (sha256 ${incident.sha256.slice(0, 12)}…) ${what}: ${t.reason}` });
    }
    if (t.to < t.from) {
      const ack = cr.spec.escalation?.acknowledgement;
      const closing = { closedAt: rfc3339(now), closedBy: t.reviewer ?? ack?.reviewer ?? '', ...(ack?.note ? { closeNote: ack.note } : {}) };
      incidents = incidents.map((i) => {
        if (i.closedAt || (i.level ?? 3) <= t.to) return i;
        announcements.push({ type: 'Normal', reason: 'IncidentClosed', message: `incident ${i.id} closed by ${closing.closedBy}${ack?.note ? `: ${ack.note}` : ''}` });
        return { ...i, ...closing };
      });
      if (incident) incident = incidents.find((i) => i.id === incident!.id) ?? incident;
    }
  }

  const escalation = statusFromState(result.state, incident, incidents);
  const drift = judgement ? judgement.drift : cr.status?.drift;
  const changed = !jsonEqual(cr.status?.escalation ?? { level: 0 }, escalation) || !jsonEqual(cr.status?.drift, drift);

  const nextDue = judgement ? now + interval : input.nextCheckDue;
  const jitter = Math.floor(input.random * Math.min(interval * 0.1, 30_000));
  const step: EscalationStep = {
    drift,
    escalation,
    changed,
    transitioned: t !== undefined,
    announcements,
    requeueAfterMs: Math.max(nextDue - now, 1000) + jitter,
  };
  const ack = cr.spec.escalation?.acknowledgement;
  if (result.refusedAcknowledgement && ack) {
    step.refusedAcknowledgement = { key: JSON.stringify([ack.reviewer, ack.level, ack.note ?? '', prev.level]), message: result.refusedAcknowledgement };
  }
  return step;
}

const MAX_INCIDENTS = 10;

function incidentRecord(cr: ClinicalModel, level: number, reason: string, now: number, earlier: readonly IncidentRecord[]): IncidentRecord {
  const stamp = rfc3339(now).replace(/[-:]/g, '').replace('T', '-').replace('Z', '');
  const base = `${cr.metadata.name}-${stamp}`;
  const taken = new Set(earlier.map((i) => i.id));
  let id = base;
  for (let k = 2; taken.has(id); k++) id = `${base}-${k}`;
  return {
    id,
    level,
    openedAt: rfc3339(now),
    reason,
    modelVersion: served(cr).version,
    sha256: served(cr).sha256,
  };
}

/** The model version that serves, or the declared one when none does yet. */
function served(cr: ClinicalModel): { sha256: string; version: string } {
  return servedModel(cr) ?? { sha256: cr.spec.model.sha256.toLowerCase(), version: cr.spec.model.version };
}
