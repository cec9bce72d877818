// Health: the seeds' /health, the Kubernetes probes (/health/live, /health/ready), the OIP's
// (/v2/health/*), and /metrics (metricsRoute). The provider in use is part of readiness: the operator reads it to
// report a GPU model served on CPU.
import type { AppDeps, RouteDef } from '../route.js';
import type { Serving } from '../serving.js';

export function healthRoutes(d: Pick<AppDeps, 'modelName' | 'modelVersion' | 'metrics' | 'keys'>, serving: Serving): RouteDef[] {
  const live = () => ({ json: { live: true } });
  // Loud wherever someone looks: a server without keys says so in every readiness answer.
  const open = d.keys ? {} : { authentication: 'none', warning: 'serving without API keys (--allow-unauthenticated): anyone who can reach this port may predict' };
  return [
    {
      method: 'GET', path: '/health', open: true,
      handler: () => {
        const ok = serving.ready();
        const { phase, reason } = serving.state;
        return { status: ok ? 200 : 503, json: { status: ok ? 'healthy' : phase, modelLoaded: ok, model: { name: d.modelName, version: d.modelVersion }, ...(reason ? { reason } : {}) } };
      },
    },
    { method: 'GET', path: '/health/live', open: true, handler: live },
    {
      method: 'GET', path: '/health/ready', open: true,
      handler: () => {
        if (!serving.ready()) throw serving.notReady();
        const p = serving.state.provider;
        return { json: { ready: true, ...open, ...(p ? { executionProvider: p.active, requestedExecutionProvider: p.requested, ...(p.note ? { executionProviderNote: p.note } : {}) } : {}) } };
      },
    },
    { method: 'GET', path: '/v2/health/live', open: true, handler: live },
    {
      method: 'GET', path: '/v2/health/ready', open: true,
      handler: () => {
        if (!serving.ready()) throw serving.notReady();
        return { json: { ready: true, ...open } };
      },
    },
  ];
}

/**
 * /metrics: on the monitoring port (apart) open, for a NetworkPolicy to give to the operator and the
 * chart's scrapers alone; on the serving port an API key's, when keys are configured.
 */
export function metricsRoute(d: Pick<AppDeps, 'metrics'>): RouteDef {
  return {
    method: 'GET', path: '/metrics', metrics: true,
    handler: async () => ({ text: await d.metrics.registry.metrics(), contentType: d.metrics.registry.contentType }),
  };
}
