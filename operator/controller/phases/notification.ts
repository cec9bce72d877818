// Phase 3, notification: the retraining signal (spec.governance.notify) for the escalation status now
// holds, in a pass of its own — its attempt is sent and recorded, and the pass ends there and runs again.
// Not in a pass that changed the escalation: the next one sends what that one recorded.
import { notificationDue } from '../../governance/notify.js';
import type { Observed, Outcome, PassState } from '../pass.js';

export function notificationPhase(obs: Observed, pass: PassState): Outcome {
  if (pass.escalated) return {};
  const { cr } = pass;
  // What this process last attempted counts too: the cache may not show its status write yet.
  const known = obs.notification;
  const recorded = cr.status?.notification;
  const latest = known && (recorded?.id !== known.id || recorded.attempts < known.attempts) ? known : recorded;
  const due = notificationDue(latest === recorded ? cr : { ...cr, status: { ...cr.status, notification: latest } }, obs.now);
  if (!due) return {};
  if (due.now) return { actions: [{ do: 'notify', due, ...(latest ? { prev: latest } : {}) }], requeueAfterMs: 1, stop: true };
  return { requeueAfterMs: Math.max(1, due.at - obs.now) };
}
