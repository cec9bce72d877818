// Phase 5, approval: the go/no-go sign-off recorded for the declared version (status.approval), and the
// version becomes the accepted one once every gate it declares is passed. One Event when it is approved.
import { settleGates } from '../../acceptance/gate.js';
import { gated } from '../../serving/versions.js';
import { rfc3339 } from '../../util/time.js';
import type { Observed, Outcome, PassState } from '../pass.js';

export function approvalPhase(obs: Observed, pass: PassState): Outcome {
  if (!gated(pass.cr)) return {};
  const cr = settleGates(pass.cr, rfc3339(obs.now));
  const a = cr.status?.approval;
  const held = obs.cr.status?.approval;
  if (!a?.approvedAt || (held?.sha256 === a.sha256 && held?.approvedAt !== undefined)) return { pass: { cr } };
  const message = `version ${cr.spec.model.version} approved: ${(a.signatures ?? []).map((x) => `${x.item} by ${x.signedBy}`).join(', ')}`;
  return { pass: { cr }, events: [{ type: 'Normal', reason: 'Approved', message, once: { topic: `approved ${a.sha256}` } }] };
}
