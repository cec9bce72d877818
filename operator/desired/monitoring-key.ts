// The key the operator reads a model's monitoring signals with (/v1/monitoring/*: predictions with
// clinicians' diagnoses and when they were made). One per ClinicalModel, in a Secret the operator
// creates, owned by the model, and mounts into its pods; the server lets no other key read them, and
// serves them on a port of their own that the chart's NetworkPolicy opens to the operator alone.
import type { ClinicalModel } from '../api/types.js';
import { objectMeta } from './meta.js';
import { OPERATOR_RECORD_LABEL } from './records.js';

export const MONITORING_PORT = 8081;
export const MONITORING_KEY_MOUNT = '/etc/clinops/monitoring';
/** The Secret's key holding the monitoring key. */
export const MONITORING_KEY = 'key';

export function monitoringKeyName(modelName: string): string {
  return `${modelName}-monitoring`;
}

/** The Secret holding `key` for the model (applied once, when absent: a key is never replaced by the operator). */
export function desiredMonitoringSecret(cr: ClinicalModel, key: string): object {
  const name = cr.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: objectMeta(cr, monitoringKeyName(name), { [OPERATOR_RECORD_LABEL]: 'monitoring-key' }),
    type: 'Opaque',
    data: { [MONITORING_KEY]: Buffer.from(key).toString('base64') },
  };
}

/** The key a Secret holds, or undefined when it holds none usable (the server needs 16 characters). */
export function monitoringKeyOf(secret: { data?: Record<string, string> } | undefined): string | undefined {
  const b64 = secret?.data?.[MONITORING_KEY];
  const key = b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString('utf8').trim();
  return key && key.length >= 16 ? key : undefined;
}
