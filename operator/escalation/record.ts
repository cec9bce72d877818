// The escalation record kept outside the ClinicalModel: a ConfigMap in the model's namespace that the
// operator writes whenever status.escalation changes, with no owner reference, so deleting the model
// (an Argo CD replace, a restore without status, a mistaken `kubectl delete`) does not delete it. A
// ClinicalModel of that name that appears without an escalation in its status starts from the record:
// a shut-down model stays shut down (leaving level 3 still needs a new sha256 and an acknowledgement),
// a paused one stays paused, and an Event says where the level came from. An administrator retires a
// record for good by deleting the ConfigMap.
import type { ClinicalModel, EscalationStatus } from '../api/types.js';

export const RECORD_KEY = 'record.json';
export const RECORD_LABEL = 'clinops.dev/escalation-record-of';

export function recordName(model: string): string {
  return `${model}-escalation-record`;
}

export interface EscalationRecord {
  model: string;
  /** The ClinicalModel object the record was last written for (a re-created one has another uid). */
  uid: string;
  modelVersion: string;
  sha256: string;
  writtenAt: string;
  escalation: EscalationStatus;
}

/** The ConfigMap that keeps a model's escalation; no owner reference, so it outlives the model. */
export function recordConfigMap(cr: ClinicalModel, escalation: EscalationStatus, now: string): object {
  const record: EscalationRecord = {
    model: cr.metadata.name,
    uid: cr.metadata.uid ?? '',
    modelVersion: cr.spec.model.version,
    sha256: cr.spec.model.sha256.toLowerCase(),
    writtenAt: now,
    escalation,
  };
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: recordName(cr.metadata.name),
      namespace: cr.metadata.namespace ?? 'default',
      labels: { 'app.kubernetes.io/managed-by': 'clinops', [RECORD_LABEL]: cr.metadata.name },
      annotations: { 'clinops.dev/retire': `kubectl delete configmap ${recordName(cr.metadata.name)}: forget this model's escalation for good (administrators only)` },
    },
    data: { [RECORD_KEY]: JSON.stringify(record) },
  };
}

/** The record in a ConfigMap's data, or undefined when it is not one (never throws: a broken record is reported by the caller). */
export function parseRecord(data: Record<string, string> | undefined): EscalationRecord | undefined {
  try {
    const r = JSON.parse(data?.[RECORD_KEY] ?? '') as EscalationRecord;
    return typeof r?.escalation?.level === 'number' && typeof r.sha256 === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a model without an escalation in its status starts from, given its record: the recorded
 * escalation when it holds a level or an incident, with a message for the Event; nothing otherwise.
 */
export function restoredEscalation(cr: ClinicalModel, record: EscalationRecord): { escalation: EscalationStatus; message: string } | undefined {
  const e = record.escalation;
  if ((e.level ?? 0) === 0 && (e.incidents ?? []).length === 0) return undefined;
  const sha = cr.spec.model.sha256.toLowerCase();
  const same = sha === record.sha256 ? 'the same model (sha256 unchanged)' : `sha256 ${record.sha256.slice(0, 12)}… then, ${sha.slice(0, 12)}… now`;
  const way = e.level === 3
    ? 'leaving level 3 needs a new model version (spec.model.sha256) and an acknowledgement of level 3'
    : `a reviewer acknowledges level ${e.level} in spec.escalation.acknowledgement`;
  return {
    escalation: e,
    message: `level ${e.level ?? 0} restored from ConfigMap ${recordName(cr.metadata.name)} (written ${record.writtenAt} for ` +
      `${record.modelVersion}, ${same})${(e.level ?? 0) > 0 ? `: ${way}` : ''}`,
  };
}
