// Shadow traffic, on the monitoring port (the operator's key alone): the serving version is told where
// its candidate's replicas are and reports how the two compare; the candidate takes the copies at
// /v1/monitoring/mirror and answers with its labels and confidences. A copy is a real prediction on
// the candidate — in its window, its metrics and its audit log (key id "shadow").
import { fail } from '../../errors.js';
import type { ShadowMirror } from '../../shadow/mirror.js';
import type { RouteDef } from '../route.js';
import type { Serving } from '../serving.js';

export function shadowRoutes(mirror: ShadowMirror | undefined, serving: Serving): RouteDef[] {
  const control = (): ShadowMirror => {
    if (!mirror) throw fail('noRoute', { method: 'POST', path: '/v1/monitoring/shadow' });
    return mirror;
  };
  return [
    { method: 'GET', path: '/v1/monitoring/shadow', monitoring: true, operatorOnly: true, handler: () => ({ json: control().report() }) },
    {
      method: 'POST', path: '/v1/monitoring/shadow', monitoring: true, operatorOnly: true,
      handler: async (ctx) => {
        const m = control();
        const body = await ctx.body();
        if (body.kind !== 'json') throw fail('shadowBodyNotObject', {}, '');
        return { json: m.set(body.value) };
      },
    },
    { method: 'DELETE', path: '/v1/monitoring/shadow', monitoring: true, operatorOnly: true, handler: () => ({ json: control().clear() }) },
    {
      method: 'POST', path: '/v1/monitoring/mirror', monitoring: true, operatorOnly: true,
      handler: async (ctx) => {
        const predictor = serving.predictor();
        const body = await ctx.body({ tensors: true });
        if (body.kind === 'image' || body.kind === 'images' || body.kind === 'related') throw fail('tensorsOnly', {}, 'content-type');
        const r = body.kind === 'tensors'
          ? await predictor.inferOip(body.header, 'shadow', body.binary, body.owned)
          : await predictor.inferOip(body.value, 'shadow');
        return { json: { predictions: r.prediction.predictions.map((p) => ({ label: p.label, confidence: p.confidence })) } };
      },
    },
  ];
}
