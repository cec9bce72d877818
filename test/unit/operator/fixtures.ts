import type { ClinicalModel } from '../../../operator/api/types.js';

export function clinicalModel(overrides: Partial<ClinicalModel['spec']> = {}, meta: Partial<ClinicalModel['metadata']> = {}): ClinicalModel {
  return {
    apiVersion: 'clinops.dev/v1alpha1',
    kind: 'ClinicalModel',
    metadata: { name: 'pneumonia-cxr', namespace: 'radiology', uid: 'uid-1', generation: 3, ...meta },
    spec: {
      model: {
        uri: 'pvc://models-claim/pneumonia/3/model.onnx',
        sha256: 'ABCDEF'.padEnd(64, '0'),
        version: '3.0.0',
        labels: ['Normal', 'Pneumonia'],
      },
      ...overrides,
      // Closed by default: a fixture without keys says it serves anyone.
      serving: { ...(overrides.serving?.apiKeySecretRef ? {} : { allowUnauthenticated: true }), ...overrides.serving },
    },
  };
}
