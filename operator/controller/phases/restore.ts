// Phase 1, restore the record: a model with no escalation in its status (new, or re-created after a
// delete) starts from the escalation record an earlier object of its name left, if one holds a level
// or an incident. The restored level is written to status before anything else happens.
import { restoredEscalation } from '../../escalation/record.js';
import type { Observed, Outcome, PassState } from '../pass.js';

export function restorePhase(obs: Observed, pass: PassState): Outcome {
  if (!obs.record) return {};
  const looked = { do: 'recordLooked' } as const;
  const restored = obs.record.found ? restoredEscalation(pass.cr, obs.record.found) : undefined;
  if (!restored) return { actions: [looked] };
  const cr = { ...pass.cr, status: { ...pass.cr.status, escalation: restored.escalation } };
  return { pass: { cr }, record: true, actions: [looked], events: [{ type: 'Warning', reason: 'EscalationRestored', message: restored.message }] };
}
