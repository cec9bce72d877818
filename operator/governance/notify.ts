// The retraining signal: when a drift or performance check raises a model's escalation level, the team
// that retrains it hears of it through spec.governance.notify — one CloudEvent (CloudEvents 1.0,
// structured JSON) per escalation, its id the same on every attempt so a receiver drops repeats; the
// model, its version, the verdicts and numbers, and the ids of recent predictions worth relabelling —
// never an input. What is due and what an attempt leaves in status are pure; sending is the caller's.
import type { ClinicalModel, NotificationStatus } from '../api/types.js';
import { API_VERSION, PLURAL } from '../api/types.js';
import { rfc3339 } from '../util/time.js';

export const EVENT_TYPE = 'dev.clinops.model.escalated';
/** The label a Secret carries to let the operator read it as spec.governance.notify's token. */
export const NOTIFY_TOKEN_LABEL = 'clinops.dev/notify-token';
/** Attempts before giving up on an escalation's event, and the backoff between them: 5 s doubling to 10 min. */
export const MAX_ATTEMPTS = 8;
const FIRST_BACKOFF_MS = 5000;
const MAX_BACKOFF_MS = 600_000;

export interface DueNotification {
  id: string;
  level: number;
  /** The attempt is due now; otherwise at `at` (ms). */
  now: boolean;
  at: number;
}

/**
 * The event the current escalation owes, if any: the level was last raised by a check (drift or
 * performance, not a safety report or an operator's restore) and its event is neither delivered nor
 * given up on.
 */
export function notificationDue(cr: ClinicalModel, now: number): DueNotification | undefined {
  if (!cr.spec.governance?.notify) return undefined;
  const esc = cr.status?.escalation;
  const level = esc?.level ?? 0;
  const last = esc?.history?.[esc.history.length - 1];
  if (level === 0 || !last || last.to !== level || last.to <= last.from) return undefined;
  if (last.psi === undefined && last.ksPValue === undefined && last.dip === undefined) return undefined;
  const id = `${cr.metadata.uid ?? cr.metadata.name}-${level}-${Date.parse(last.time)}`;
  const n = cr.status?.notification;
  if (n?.id === id && (n.deliveredAt || n.gaveUp)) return undefined;
  const at = n?.id === id && n.nextAttemptAt ? Date.parse(n.nextAttemptAt) : now;
  return { id, level, now: at <= now, at };
}

/** The CloudEvent for the model's current escalation, from its status (the same numbers on a retry). */
export function escalationEvent(cr: ClinicalModel, id: string, relabel: readonly string[], now: number): Record<string, unknown> {
  const { namespace = 'default', name } = cr.metadata;
  const esc = cr.status?.escalation ?? {};
  const last = esc.history?.[esc.history.length - 1];
  const drift = cr.status?.drift;
  return {
    specversion: '1.0',
    id,
    source: `/apis/${API_VERSION}/namespaces/${namespace}/${PLURAL}/${name}`,
    type: EVENT_TYPE,
    subject: `${namespace}/${name}`,
    time: rfc3339(now),
    datacontenttype: 'application/json',
    data: {
      model: { namespace, name, version: cr.spec.model.version, sha256: cr.spec.model.sha256 },
      level: esc.level ?? 0,
      previousLevel: last?.from ?? 0,
      since: esc.since,
      reason: esc.reason,
      ...(esc.incident ? { incident: esc.incident.id } : {}),
      drift: drift ? {
        verdict: drift.verdict, samples: drift.samples, psi: drift.psi, ks: drift.ks,
        ...(drift.signals ? { signals: drift.signals } : {}),
        ...(drift.features !== undefined ? { featuresTested: drift.features } : {}),
      } : undefined,
      performance: drift?.performance,
      ...(cr.spec.monitoring?.performance?.baseline ? { baseline: cr.spec.monitoring.performance.baseline } : {}),
      relabel: [...relabel],
    },
  };
}

/** The status after an attempt: delivered, or the next attempt scheduled (or given up after MAX_ATTEMPTS). */
export function afterAttempt(prev: NotificationStatus | undefined, due: DueNotification, error: string | undefined, now: number): NotificationStatus {
  const attempts = (prev?.id === due.id ? prev.attempts : 0) + 1;
  const base: NotificationStatus = { id: due.id, level: due.level, attempts, lastAttemptAt: rfc3339(now) };
  if (!error) return { ...base, deliveredAt: rfc3339(now) };
  if (attempts >= MAX_ATTEMPTS) return { ...base, lastError: error, gaveUp: true };
  const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempts - 1));
  return { ...base, lastError: error, nextAttemptAt: rfc3339(now + backoff) };
}
