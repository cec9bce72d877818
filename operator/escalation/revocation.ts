// Revoked versions: a model version (sha256) shut down at level 3 is revoked in its namespace, so no
// ClinicalModel of any name serves it again — the chart's admission policy refuses a ClinicalModel that
// declares it, and the operator, as a second line, serves nothing while one does. The record is a
// RevokedVersion named after the sha256 that only the operator writes; a governance administrator lifts
// it by adding spec.lift (their own name, checked by the API server, and a reason), and the record keeps it.
import type { ClinicalModel, EscalationStatus } from '../api/types.js';
import { API_VERSION } from '../api/types.js';

export const REVOKED_VERSIONS = { group: 'clinops.dev', version: 'v1alpha1', plural: 'revokedversions' };

export interface Revocation {
  sha256: string;
  model: string;
  version: string;
  revokedAt: string;
  reason: string;
  incident?: string;
  lift?: { by: string; reason: string };
}

export interface RevokedVersion {
  apiVersion: string;
  kind: 'RevokedVersion';
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  spec: Revocation;
}

/** The record of `escalation.shutdownSha256`'s revocation, as the operator writes it (a whole object: revoking again drops an earlier lift). */
export function revokedVersion(cr: ClinicalModel, escalation: EscalationStatus, now: string): RevokedVersion {
  const sha = (escalation.shutdownSha256 ?? cr.spec.model.sha256).toLowerCase();
  const version = escalation.incident?.sha256 === sha ? escalation.incident.modelVersion : cr.spec.model.version;
  return {
    apiVersion: API_VERSION,
    kind: 'RevokedVersion',
    metadata: { name: sha, namespace: cr.metadata.namespace ?? 'default', labels: { 'app.kubernetes.io/managed-by': 'clinops' } },
    spec: {
      sha256: sha,
      model: cr.metadata.name,
      version,
      revokedAt: now,
      reason: (escalation.reason ?? 'shut down at level 3').slice(0, 1024),
      ...(escalation.incident ? { incident: escalation.incident.id } : {}),
    },
  };
}

/** What the model's status says while it declares a revoked version. */
export function revokedMessage(r: Revocation): string {
  return `sha256 ${r.sha256.slice(0, 12)}… (version ${r.version}) was shut down at level 3 as model ${r.model} on ${r.revokedAt} and is revoked ` +
    `in this namespace (RevokedVersion ${r.sha256.slice(0, 12)}…): nothing serves it until a governance administrator lifts it; declare another version`;
}
