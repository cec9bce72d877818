// The escalation part of a reconcile pass (pure, synchronous): feed the judged check's findings (when
// one ran), any reported patient-safety event and the spec's acknowledgement to the escalation state
// machine, and say what to write (status.drift, status.escalation) and announce (Events). The state
// lives in status, so a restarted operator continues where the last one stopped.
import type { ClinicalModel, DriftStatus, EscalationStatus, IncidentRecord } from '../api/types.js';
import type { Judgement } from '../drift/judge.js';
import { monitoringIntervalMs } from '../monitoring/schedule.js';
import { jsonEqual } from '../util/json-equal.js';
import { rfc3339 } from '../util/time.js';
import { levelPolicy } from './actions.js';
import { nextEscalation } from './machine.js';
import { escalationPolicy, safetyEvents, stateFromStatus, statusFromState } from './state.js';

export interface Announcement {
  type: 'Normal' | 'Warning';
  reason: string;
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
  const findings = judgement?.findings;
  if (judgement) {
    const d = judgement.drift;
    if (d.verdict === 'Moderate' || d.verdict === 'Significant') {
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
    sha256: cr.spec.model.sha256.toLowerCase(),
    now,
    policy: escalationPolicy(cr),
  });

  let incident = cr.status?.escalation?.incident;
  const t = result.transition;
  if (t) {
    const action = levelPolicy(cr.spec.escalation, t.to)?.action;
    if (t.to > t.from) {
      const due = result.state.reviewDueBy ? `; review due by ${result.state.reviewDueBy}` : '';
      announcements.push({ type: 'Warning', reason: 'Escalated', message: `level ${t.from} → ${t.to} (${action}): ${t.reason}${due}` });
    } else {
      announcements.push({ type: 'Normal', reason: 'Acknowledged', message: `level ${t.from} → ${t.to}: ${t.reason}` });
    }
    if (t.to === 3) {
      incident = incidentRecord(cr, t.reason, now);
      announcements.push({ type: 'Warning', reason: 'IncidentOpened',
        message: `incident ${incident.id}: model ${cr.spec.model.version} (sha256 ${incident.sha256.slice(0, 12)}…) shut down: ${t.reason}` });
    }
  }

  const escalation = statusFromState(result.state, incident);
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

function incidentRecord(cr: ClinicalModel, reason: string, now: number): IncidentRecord {
  const stamp = rfc3339(now).replace(/[-:]/g, '').replace('T', '-').replace('Z', '');
  return {
    id: `${cr.metadata.name}-${stamp}`,
    openedAt: rfc3339(now),
    reason,
    modelVersion: cr.spec.model.version,
    sha256: cr.spec.model.sha256.toLowerCase(),
  };
}
