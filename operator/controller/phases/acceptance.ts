// Phase 4, acceptance: the declared version (spec.model.sha256) through its acceptance Job. With no Job
// the operator believes (the one whose uid it recorded, from its own image), one is started and read in
// the next pass; a decided Job's verdict goes into status.acceptance with one Event.
import { jobResult, nextAcceptance } from '../../acceptance/gate.js';
import { gated } from '../../serving/versions.js';
import { rfc3339 } from '../../util/time.js';
import type { Announce, Observed, Outcome, PassState } from '../pass.js';

/** How soon to look again while the Job runs (its pod's state is read, not watched). */
export const ACCEPTANCE_POLL_MS = 3000;

export function acceptancePhase(obs: Observed, pass: PassState): Outcome {
  const { cr } = pass;
  const a = obs.acceptance;
  if (!a || !gated(cr) || !cr.spec.acceptance) return {};
  const sha = cr.spec.model.sha256.toLowerCase();
  const runs = a.job?.spec?.template?.spec?.containers?.find((c) => c.name === 'accept')?.image;
  const believed = a.recorded && a.job?.metadata?.uid === a.recorded.uid && runs === a.image;
  if (!believed) {
    const events: Announce[] = [];
    if (a.recorded) {
      const why = a.job?.metadata?.uid !== a.recorded.uid ? 'is gone or is not the one the operator made' : `runs ${runs}, not the operator's acceptance image now`;
      events.push({ type: 'Warning', reason: 'AcceptanceRestarted', message: `the acceptance Job ${a.recorded.name} of version ${cr.spec.model.version} ${why}; starting another` });
    }
    return { actions: [{ do: 'startAcceptance', image: a.image }], events, requeueAfterMs: 1 };
  }
  const result = jobResult(cr, a.job!, a.pods, rfc3339(obs.now), { image: a.image, ...(a.holdoutSha256 ? { holdoutSha256: a.holdoutSha256 } : {}) });
  const acceptance = nextAcceptance(cr, result);
  const out: Outcome = { pass: { cr: { ...cr, status: { ...cr.status, acceptance } } } };
  if (result.state === 'Running') return { ...out, requeueAfterMs: ACCEPTANCE_POLL_MS };
  const keeps = acceptance.accepted && acceptance.accepted.sha256 !== sha ? `version ${acceptance.accepted.version} keeps serving` : 'nothing serves until a version passes';
  const [type, reason, message] = result.state === 'Passed'
    ? ['Normal', 'Accepted', `version ${result.version} passed acceptance on ${result.cases} cases (${metricsText(result)})`] as const
    : result.state === 'Failed'
      ? ['Warning', 'Rejected', `version ${result.version} failed acceptance: ${result.message}; ${keeps}`] as const
      : ['Warning', 'AcceptanceError', `version ${result.version} could not be accepted: ${result.message}; ${keeps}`] as const;
  return { ...out, actions: [{ do: 'acceptanceDone' }], events: [{ type, reason, message, once: { topic: `acceptance ${sha} ${result.state}` } }] };
}

/** A result's metrics, as an Event says them: "auroc 0.99, sensitivity 0.95, …". */
export function metricsText(r: { metrics?: Record<string, number> }): string {
  return Object.entries(r.metrics ?? {}).map(([k, v]) => `${k} ${Number(v.toPrecision(4))}`).join(', ');
}
