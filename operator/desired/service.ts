// The ClusterIP Service in front of a ClinicalModel's inference pods.
import type { ClinicalModel } from '../api/types.js';
import { SERVER_PORT } from './deployment.js';
import { type ChildMeta, objectMeta } from './meta.js';
import { selectorLabels } from './labels.js';

export interface Service {
  apiVersion: 'v1';
  kind: 'Service';
  metadata: ChildMeta;
  spec: Record<string, unknown>;
}

export function desiredService(cr: ClinicalModel): Service {
  const name = cr.metadata.name;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(cr, name),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(name),
      ports: [cr.spec.serving?.tls
        ? { name: 'https', port: SERVER_PORT, targetPort: 'http', protocol: 'TCP', appProtocol: 'https' }
        : { name: 'http', port: SERVER_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

/** In-cluster URL of the Service, as status.endpoint reports it. */
export function serviceEndpoint(cr: ClinicalModel): string {
  return `${cr.spec.serving?.tls ? 'https' : 'http'}://${serviceHost(cr)}:${SERVER_PORT}`;
}

/** The Service's DNS name: what a model's certificate must name, and what the operator checks it for. */
export function serviceHost(cr: ClinicalModel): string {
  return `${cr.metadata.name}.${cr.metadata.namespace ?? 'default'}.svc`;
}
