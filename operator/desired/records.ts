// The objects the operator keeps as records beside a ClinicalModel's children (its monitoring key, its
// label store) carry clinops.dev/record=KIND. The chart's admission policy lets only the
// operator's ServiceAccount create or change an object with that label, so the label is the mark of the
// operator's own: an object of the same name without it was made by someone else and is never read,
// adopted, overwritten or deleted.

export const OPERATOR_RECORD_LABEL = 'clinops.dev/record';
export type RecordKind = 'monitoring-key' | 'label-store' | 'history' | 'report';

export interface RecordMeta {
  metadata?: { uid?: string; labels?: Record<string, string>; ownerReferences?: Array<{ uid: string; controller?: boolean }> };
}

/** The object is the operator's record of this kind (and, for an owned record, controlled by `ownerUid`). */
export function isOperatorRecord(obj: RecordMeta | undefined, kind: RecordKind, ownerUid?: string): boolean {
  if (obj?.metadata?.labels?.[OPERATOR_RECORD_LABEL] !== kind) return false;
  return ownerUid === undefined || (obj.metadata.ownerReferences ?? []).some((o) => o.controller && o.uid === ownerUid);
}

/** An object in the way of a record: the message names it and says what to do. */
export class RecordConflictError extends Error {
  constructor(readonly kind: string, readonly objectName: string, what: string) {
    super(`${kind} ${objectName} exists and was not made by clinops for this model (no ${OPERATOR_RECORD_LABEL} label or another owner): ` +
      `it is not used as ${what}; delete or rename it and the operator makes its own`);
    this.name = 'RecordConflictError';
  }
}
