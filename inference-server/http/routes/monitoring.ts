// What the operator's drift checks read: the prediction window, the predictions that received ground
// truth, and per-feature bin counts, each from a sequence number on. No PHI, but clinicians' diagnoses
// and when they were made: only the operator reads them, with the monitoring key it mounts into the pod.
import { fail } from '../../errors.js';
import type { FeatureCountsResponse, FeedbackResponse, WindowResponse } from '../../../contract/monitoring.js';
import type { AppDeps, RouteDef } from '../route.js';

export function monitoringRoutes(d: Pick<AppDeps, 'modelName' | 'modelVersion' | 'window' | 'feedback' | 'features' | 'epoch'>): RouteDef[] {
  const model = { name: d.modelName, version: d.modelVersion };
  return [
    {
      method: 'GET', path: '/v1/monitoring/window', monitoring: true,
      handler: (ctx) => {
        const after = parseCount(ctx.query, 'after', 0);
        const limit = parseCount(ctx.query, 'limit', d.window.capacity);
        const { samples, dropped } = d.window.after(after, Math.max(1, limit));
        const json: WindowResponse = { model, epoch: d.epoch, seq: d.window.lastSeq, samples, dropped, capacity: d.window.capacity };
        return { json };
      },
    },
    {
      method: 'GET', path: '/v1/monitoring/feedback', monitoring: true,
      handler: (ctx) => {
        const store = d.feedback.reports;
        const after = parseCount(ctx.query, 'after', 0);
        const limit = parseCount(ctx.query, 'limit', store.capacity);
        const { samples, dropped } = store.after(after, Math.max(1, limit));
        const json: FeedbackResponse = { model, epoch: d.epoch, seq: store.lastSeq, samples, dropped, capacity: store.capacity };
        return { json };
      },
    },
    {
      method: 'GET', path: '/v1/monitoring/features', monitoring: true,
      handler: (ctx) => {
        const f = d.features;
        if (!f) throw fail('noFeatureReference');
        const { counts, dropped } = f.after(parseCount(ctx.query, 'after', 0));
        const json: FeatureCountsResponse = {
          model, epoch: d.epoch, seq: d.window.lastSeq, bins: f.digest, dropped, capacity: f.capacity,
          features: f.reference.features.map((x, i) => ({ name: x.name, counts: counts[i]! })),
        };
        return { json };
      },
    },
  ];
}

/** A query parameter that is a whole number ≥ 0, given at most once; `dflt` when absent. */
function parseCount(query: URLSearchParams, field: string, dflt: number): number {
  const all = query.getAll(field);
  if (all.length === 0) return dflt;
  const v = all[0]!;
  const n = Number(v);
  if (all.length > 1 || !/^\d{1,15}$/.test(v) || !Number.isSafeInteger(n)) {
    throw fail('badCount', { field }, field);
  }
  return n;
}
