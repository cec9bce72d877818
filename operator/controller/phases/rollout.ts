// Phase 6, rollout: the declared version beside the serving one (spec.rollout) — shadow, canary,
// promotion or rollback, judged by rolloutPass from the pods and the shadow comparisons gathered. A
// changed step is written to status before anything is done about it.
import { desiredReplicas } from '../../desired/deployment.js';
import { rolloutPass } from '../../rollout/rollout.js';
import { isReady, servesSha } from '../../serving/pods.js';
import { servable } from '../../serving/versions.js';
import type { ClinicalModel } from '../../api/types.js';
import { rfc3339 } from '../../util/time.js';
import type { Observed, Outcome, PassState } from '../pass.js';

export function rolloutPhase(obs: Observed, pass: PassState): Outcome {
  const r = obs.rollout;
  if (!r) return {};
  const { cr } = pass;
  const sha = cr.spec.model.sha256.toLowerCase();
  const serving = r.servingPods;
  const servingCurrent = serving.filter((p) => isReady(p) && servesSha(p, sha)).length >= desiredReplicas(cr) && serving.every((p) => servesSha(p, sha));
  const step = rolloutPass(cr, { now: rfc3339(obs.now), candidatePods: r.candidatePods, servingCurrent, shadow: r.shadow, reference: r.reference }, servable(cr));
  const acceptance = step.accepted ? { ...cr.status?.acceptance, accepted: step.accepted } : cr.status?.acceptance;
  const next = step.rollout || step.accepted ? { ...cr, status: { ...cr.status, rollout: step.rollout ?? cr.status?.rollout, acceptance } } as ClinicalModel : cr;
  return {
    pass: { cr: next, candidate: step.candidate },
    record: step.changed,
    events: step.changed ? step.events : [],
    // The serving replicas stop copying at once (they would stop by themselves within two minutes).
    actions: step.shadowTarget === 'clear' ? [{ do: 'clearShadow' }] : [],
    ...(step.requeueAfterMs !== undefined ? { requeueAfterMs: step.requeueAfterMs } : {}),
  };
}
