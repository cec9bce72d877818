// Phase 2, escalation: the drift check gathered for this pass (when one was due) is judged, and the
// findings, any reported safety event and the spec's acknowledgement move the escalation state machine.
// A changed level is recorded (its ConfigMap, a RevokedVersion at level 3) and written to status
// before any child changes, so an action is never taken without its record.
import { judge } from '../../drift/judge.js';
import { nextCheckDue } from '../../drift/schedule.js';
import { escalationStep } from '../../escalation/step.js';
import { historyEntry } from '../../governance/history.js';
import { jsonEqual } from '../../util/json-equal.js';
import type { Action, Announce, Observed, Outcome, PassState } from '../pass.js';

export function escalationPhase(obs: Observed, pass: PassState): Outcome {
  const { cr } = pass;
  const input = obs.drift.input;
  const judgement = input ? judge(input, cr) : undefined;
  const step = escalationStep(cr, { now: obs.now, judgement, nextCheckDue: nextCheckDue(cr, obs.drift.lastCheck), random: obs.random });
  const actions: Action[] = [{ do: 'driftMetrics', drift: step.drift, level: step.escalation.level ?? 0, ...(judgement ? { judgement } : {}) }];
  const events: Announce[] = [];
  const out: Outcome = { requeueAfterMs: step.requeueAfterMs, actions, events, pass: { escalated: step.changed } };
  if (step.changed) {
    if (!jsonEqual(cr.status?.escalation ?? { level: 0 }, step.escalation)) {
      // If a record cannot be written the pass fails and all are tried again.
      out.before = [{ do: 'writeRecords', before: cr.status?.escalation, escalation: step.escalation }];
    }
    out.record = true;
    out.pass!.cr = { ...cr, status: { ...cr.status, drift: step.drift, escalation: step.escalation } };
    if (judgement) actions.push({ do: 'commitCheck', judgement, reset: step.transitioned });
    events.push(...step.announcements);
    // A check that judged something (drift, or performance on labels) leaves an entry in the history.
    const entry = judgement && (judgement.findings || judgement.drift.verdict !== 'InsufficientData') ? historyEntry(out.pass!.cr) : undefined;
    if (entry) actions.push({ do: 'recordHistory', entry });
  }
  // The label store after what this check read and judged (a no-op when it did not change).
  if (input) actions.push({ do: 'saveLabels' });
  const refused = step.refusedAcknowledgement;
  if (refused) events.push({ type: 'Warning', reason: 'AcknowledgementRefused', message: refused.message, once: { topic: 'acknowledgement', value: refused.key }, unlogged: true });
  return out;
}
