// The HorizontalPodAutoscaler (autoscaling/v2) a model with spec.serving.autoscaling has, and when it has
// none. Escalation overrides it: at a level whose action is Pause or Shutdown, or for a revoked version,
// the model has no autoscaler at all (nothing could scale a paused model back up) and the Deployment's
// replicas are the level's; ScaleDown caps its maxReplicas. The metrics are per pod, from the custom
// metrics API, named as the chart's prometheus-adapter rules name them.
import { levelPolicy } from '../api/levels.js';
import type { AutoscalingMetric, ClinicalModel } from '../api/types.js';
import { parseDuration } from '../util/duration.js';
import { type ChildMeta, objectMeta } from './meta.js';

export const AUTOSCALERS = { group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers' };

/** The custom metric each spec metric reads (charts/clinops/files/prometheus-adapter-rules.yaml). */
export const AUTOSCALING_METRICS: Readonly<Record<AutoscalingMetric, string>> = {
  inflightRequests: 'clinops_inference_requests_in_flight',
  requestsPerSecond: 'clinops_inference_requests_per_second',
  jobQueueDepth: 'clinops_jobs_waiting',
};

export interface Autoscaler {
  apiVersion: 'autoscaling/v2';
  kind: 'HorizontalPodAutoscaler';
  metadata: ChildMeta;
  spec: Record<string, unknown> & { minReplicas: number; maxReplicas: number };
}

/** The bounds the autoscaler has now, or undefined when the model has none (not asked for, or overridden). */
export function autoscalingBounds(cr: ClinicalModel, revoked: boolean): { min: number; max: number } | undefined {
  const a = cr.spec.serving?.autoscaling;
  if (!a || revoked) return undefined;
  const policy = levelPolicy(cr.spec.escalation, cr.status?.escalation?.level ?? 0);
  let max = a.maxReplicas;
  switch (policy?.action) {
    case 'Pause':
    case 'Shutdown':
      return undefined;
    case 'ScaleDown':
      // A cap of 0 is a pause by another name: no autoscaler.
      if (policy.replicas !== undefined) max = Math.min(max, policy.replicas);
      if (max < 1) return undefined;
      break;
    default:
      break;
  }
  return { min: Math.min(a.minReplicas ?? 1, max), max };
}

export function desiredAutoscaler(cr: ClinicalModel, revoked: boolean): Autoscaler | undefined {
  const a = cr.spec.serving?.autoscaling;
  const bounds = autoscalingBounds(cr, revoked);
  if (!a || !bounds) return undefined;
  const name = cr.metadata.name;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: objectMeta(cr, name),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: bounds.min,
      maxReplicas: bounds.max,
      metrics: [{
        type: 'Pods',
        pods: { metric: { name: AUTOSCALING_METRICS[a.metric] }, target: { type: 'AverageValue', averageValue: String(a.target) } },
      }],
      behavior: { scaleDown: { stabilizationWindowSeconds: Math.round(parseDuration(a.scaleDownDelay ?? '5m') / 1000) } },
    },
  };
}
