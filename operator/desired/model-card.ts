// The model card lives in a ConfigMap the server's pods mount, not in their environment: a card is
// documentation, and editing it must not restart every replica (on GPU nodes a rollout needs a free
// GPU for each surge pod and a model reload). The Deployment carries the card's digest as an
// annotation on itself, not on its pod template, so the reconciler knows without a read whether the
// ConfigMap is current, and the pods never see the change but through the mounted file.
import { createHash } from 'node:crypto';
import type { ClinicalModel } from '../api/types.js';
import { type ChildMeta, objectMeta } from './meta.js';

export const CARD_KEY = 'card.json';
export const CARD_DIGEST_ANNOTATION = 'clinops.dev/model-card-sha256';

export interface ConfigMap {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: ChildMeta;
  data: Record<string, string>;
}

export function modelCardName(modelName: string): string {
  return `${modelName}-model-card`;
}

function cardJson(cr: ClinicalModel): string | undefined {
  const card = cr.spec.modelCard;
  if (!card || Object.keys(card).length === 0) return undefined;
  // Keys in a fixed order, so the digest depends on the card's content only.
  return JSON.stringify(Object.fromEntries(Object.entries(card).sort(([a], [b]) => a.localeCompare(b))));
}

/** sha256 of the card as the ConfigMap holds it, or undefined when the model has no card. */
export function modelCardDigest(cr: ClinicalModel): string | undefined {
  const json = cardJson(cr);
  return json === undefined ? undefined : createHash('sha256').update(json).digest('hex');
}

export function desiredModelCard(cr: ClinicalModel): ConfigMap | undefined {
  const json = cardJson(cr);
  if (json === undefined) return undefined;
  const name = cr.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(cr, modelCardName(name)),
    data: { [CARD_KEY]: json },
  };
}
