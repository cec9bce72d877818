// What every object the operator makes for a ClinicalModel carries: its name and namespace, the model's
// labels, and its controller owner reference (the garbage collector removes it with the model, and the
// API server's admission knows whose it is).
// Below every desired/ file: each imports it, it imports none of them.
import { API_VERSION, type ClinicalModel, KIND, type OwnerReference } from '../api/types.js';
import { objectLabels } from './labels.js';

export function ownerReference(cr: ClinicalModel): OwnerReference {
  if (!cr.metadata.uid) throw new Error(`ClinicalModel ${cr.metadata.namespace}/${cr.metadata.name} has no uid`);
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: cr.metadata.name,
    uid: cr.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** What every child's metadata holds. */
export interface ChildMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  ownerReferences: OwnerReference[];
}

/** The metadata of an object the operator makes for `cr`, named `name`, with `labels` beside the model's. */
export function objectMeta(cr: ClinicalModel, name: string, labels: Record<string, string> = {}): ChildMeta {
  return {
    name,
    namespace: cr.metadata.namespace ?? 'default',
    labels: { ...objectLabels(cr.metadata.name, cr.spec.model.version), ...labels },
    ownerReferences: [ownerReference(cr)],
  };
}
