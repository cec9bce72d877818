// Phase 7, children: the Deployment (the served version, sized by the escalation level, none when the
// version is revoked), its HorizontalPodAutoscaler (spec.serving.autoscaling, while no level overrides
// it), the Service, the model card's ConfigMap and the rollout's candidate Deployment.
// A revoked version serves nowhere: the admission policy refuses it first; this is the second line.
import { asServed } from '../../acceptance/gate.js';
import type { ClinicalModel } from '../../api/types.js';
import { AUTOSCALERS, desiredAutoscaler } from '../../desired/autoscaler.js';
import { desiredDeployment, ServingSpecError, type DeploymentSettings } from '../../desired/deployment.js';
import { CARD_DIGEST_ANNOTATION, desiredModelCard } from '../../desired/model-card.js';
import { ModelUriError } from '../../desired/model-uri.js';
import { desiredService } from '../../desired/service.js';
import { type Revocation, revokedMessage } from '../../escalation/revocation.js';
import { candidateDeployment, candidateName } from '../../rollout/rollout.js';
import { servedModel } from '../../serving/versions.js';
import type { Announce, Child, Observed, Outcome, PassState } from '../pass.js';

export const DEPLOYMENTS = { group: 'apps', version: 'v1', plural: 'deployments' };
export const SERVICES = { group: '', version: 'v1', plural: 'services' };
export const CONFIGMAPS = { group: '', version: 'v1', plural: 'configmaps' };

/** Why the version this model would serve may not serve (revoked in its namespace), and a lift to announce. */
export function revocationOf(cr: ClinicalModel, revocations: ReadonlyMap<string, Revocation>): { message?: string; lifted?: Revocation } {
  const sha = servedModel(cr)?.sha256;
  // A model at level 3 is shut down already.
  if (!sha || (cr.status?.escalation?.level ?? 0) === 3) return {};
  const r = revocations.get(sha);
  if (!r) return {};
  return r.lift ? { lifted: r } : { message: revokedMessage(r) };
}

export function childrenPhase(settings: DeploymentSettings) {
  return (obs: Observed, pass: PassState): Outcome => {
    const { cr } = pass;
    const { namespace, name } = obs;
    const events: Announce[] = [];
    const revoked = revocationOf(cr, obs.revocations);
    const sha = servedModel(cr)?.sha256;
    if (revoked.lifted) {
      const r = revoked.lifted;
      const message = `the revocation of sha256 ${sha!.slice(0, 12)}… (shut down as model ${r.model}) was lifted by ${r.lift!.by}: ${r.lift!.reason}`;
      events.push({ type: 'Warning', reason: 'RevocationLifted', message, once: { topic: `lift ${sha}` } });
    }
    if (revoked.message) events.push({ type: 'Warning', reason: 'Revoked', message: revoked.message, once: { topic: 'revoked', value: revoked.message } });
    const forget = revoked.message ? [] : ['revoked'];
    let deployment;
    let service;
    try {
      const served = asServed(cr);
      deployment = desiredDeployment(revoked.message ? { ...served, spec: { ...served.spec, serving: { ...served.spec.serving, replicas: 0 } } } : served, settings);
      service = desiredService(cr);
    } catch (err) {
      if (err instanceof ModelUriError || err instanceof ServingSpecError) return { events, forget, fail: { message: err.message, terminal: true } };
      throw err;
    }
    // The autoscaler sizes the Deployment while it exists: the operator then leaves spec.replicas to it
    // (server-side apply without the field); escalation or a revocation removes it and sets the replicas.
    const autoscaler = desiredAutoscaler(cr, revoked.message !== undefined);
    if (autoscaler) delete deployment.spec.replicas;
    const children: Child[] = [];
    // The card's ConfigMap is not cached (the operator may not list ConfigMaps): the Deployment's digest
    // annotation says whether it is current, and it goes in before the Deployment records it.
    const card = desiredModelCard(cr);
    if (card && obs.deployment?.metadata?.annotations?.[CARD_DIGEST_ANNOTATION] !== deployment.metadata.annotations?.[CARD_DIGEST_ANNOTATION]) {
      children.push({ kind: 'ConfigMap', ref: { ...CONFIGMAPS, namespace, name: card.metadata.name }, desired: card });
    }
    children.push({ kind: 'Deployment', ref: { ...DEPLOYMENTS, namespace, name }, desired: deployment, observed: obs.deployment });
    children.push({ kind: 'Service', ref: { ...SERVICES, namespace, name }, desired: service, observed: obs.service });
    const autoscalerRef = { ...AUTOSCALERS, namespace, name };
    if (autoscaler) children.push({ kind: 'HorizontalPodAutoscaler', ref: autoscalerRef, desired: autoscaler, observed: obs.autoscaler });
    else if (obs.autoscaler) children.push({ kind: 'HorizontalPodAutoscaler', ref: autoscalerRef });
    const candidateRef = { ...DEPLOYMENTS, namespace, name: candidateName(name) };
    if (pass.candidate !== 'none') {
      children.push({ kind: 'Deployment', ref: candidateRef, desired: candidateDeployment(cr, pass.candidate, settings), observed: obs.candidate });
    } else if (obs.candidate) {
      children.push({ kind: 'Deployment', ref: candidateRef });
    }
    const before = obs.deployment?.spec?.replicas;
    const min = autoscaler?.spec.minReplicas;
    const rescale = min !== undefined && before !== undefined && before < min ? { ref: { ...DEPLOYMENTS, namespace, name }, replicas: min } : undefined;
    const resize = { before, after: deployment.spec.replicas ?? rescale?.replicas, level: cr.status?.escalation?.level ?? 0 };
    return { events, forget, actions: [{ do: 'applyChildren', children, resize, ...(rescale ? { rescale } : {}) }] };
  };
}

export interface ChildChange {
  kind: string;
  name: string;
  verb: 'created' | 'updated' | 'deleted';
}

/**
 * One Event per pass for what the children's apply changed, not one per child (Events are API writes
 * too); an update that changed the Deployment's size says so, and why: the escalation level or the spec.
 */
export function childrenEvent(done: readonly ChildChange[], resize: { before?: number; after?: number; level: number }): Announce | undefined {
  if (done.length === 0) return undefined;
  const created = done.every((c) => c.verb === 'created');
  const verbs = (c: ChildChange) => (c.verb === 'deleted' ? ' (deleted)' : '');
  const { before, after, level } = resize;
  const resized = !created && before !== undefined && after !== undefined && before !== after
    ? ` (${before} → ${after} replicas${level > 0 ? `, escalation level ${level}` : ''})` : '';
  return {
    type: 'Normal',
    reason: created ? 'Created' : 'Updated',
    message: `${done.map((c) => `${c.kind} ${c.name}${verbs(c)}`).join(' and ')} ${created ? 'created' : 'updated to match the spec'}${resized}`,
    unlogged: true,
  };
}
