// Between the ClinicalModel resource and the escalation state machine (pure): the state kept in
// status.escalation, the policy from spec.escalation and spec.monitoring, and the patient-safety
// events reported on the resource.
//
// A patient-safety event is reported with an annotation, so anyone with `kubectl annotate` rights on
// the model can raise it and it shows in `kubectl describe`:
//   kubectl annotate clm/NAME clinops.dev/safety-event="INC-2041: missed pneumothorax on a portable film"
// The identifier is the text before the first colon (the whole value when there is none). Each
// identifier is acted on once; a new event needs a new identifier.
import type { ClinicalModel, EscalationStatus } from '../api/types.js';
import { monitoringIntervalMs } from '../drift/schedule.js';
import { parseDuration } from '../util/duration.js';
import { levelPolicy } from '../api/levels.js';
import type { EscalationPolicy, EscalationState, Level, SafetyEvent } from './machine.js';

export const SAFETY_EVENT_ANNOTATION = 'clinops.dev/safety-event';
export const HISTORY_LIMIT = 20;
/** The policy of one model. The cooldown after an acknowledgement is one check interval. */
export function escalationPolicy(cr: ClinicalModel): EscalationPolicy {
  const reviewWithinMs: EscalationPolicy['reviewWithinMs'] = {};
  for (const level of [1, 2, 3] as const) {
    const within = levelPolicy(cr.spec.escalation, level)?.reviewWithin;
    if (within) {
      try {
        reviewWithinMs[level] = parseDuration(within);
      } catch {
        // validated by the CRD
      }
    }
  }
  return {
    consecutiveBreaches: cr.spec.escalation?.consecutiveBreaches ?? 2,
    reviewWithinMs,
    cooldownMs: monitoringIntervalMs(cr),
    historyLimit: HISTORY_LIMIT,
  };
}

export function safetyEvents(cr: ClinicalModel): SafetyEvent[] {
  const value = cr.metadata.annotations?.[SAFETY_EVENT_ANNOTATION]?.trim();
  if (!value) return [];
  const colon = value.indexOf(':');
  const id = (colon > 0 ? value.slice(0, colon) : value).trim().slice(0, 253);
  const description = colon > 0 ? value.slice(colon + 1).trim() : value;
  return [{ id, description: description || id }];
}

const LEVELS = new Set([0, 1, 2, 3]);
const asLevel = (n: number | undefined): Level => (LEVELS.has(n ?? 0) ? (n ?? 0) : 0) as Level;

export function stateFromStatus(s: EscalationStatus | undefined): EscalationState {
  return {
    level: asLevel(s?.level),
    since: s?.since,
    reason: s?.reason,
    reviewDueBy: s?.reviewDueBy,
    acknowledgedBy: s?.acknowledgedBy,
    appliedAcknowledgement: s?.appliedAcknowledgement,
    pending: s?.pending ? { level: asLevel(s.pending.level), checks: s.pending.checks } : undefined,
    shutdownSha256: s?.shutdownSha256,
    safetyEvents: s?.safetyEvents,
    cooldownUntil: s?.cooldownUntil,
    history: (s?.history ?? []).map((t) => ({ ...t, from: asLevel(t.from), to: asLevel(t.to) })),
  };
}

/** status.escalation for a state; fields without a value are left out (as the API server would). */
export function statusFromState(state: EscalationState, incident: EscalationStatus['incident'], incidents: EscalationStatus['incidents'] = []): EscalationStatus {
  const out: EscalationStatus = { level: state.level };
  const put = <K extends keyof EscalationStatus>(k: K, v: EscalationStatus[K] | undefined) => {
    if (v !== undefined && !(Array.isArray(v) && v.length === 0)) out[k] = v;
  };
  put('since', state.since);
  put('reason', state.reason);
  put('reviewDueBy', state.reviewDueBy);
  put('acknowledgedBy', state.acknowledgedBy);
  put('appliedAcknowledgement', state.appliedAcknowledgement);
  put('pending', state.pending);
  put('shutdownSha256', state.shutdownSha256);
  put('safetyEvents', state.safetyEvents);
  put('cooldownUntil', state.cooldownUntil);
  put('incident', incident);
  put('incidents', incidents);
  put('history', state.history.map((t) => Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as typeof t));
  return out;
}
