// The versioned REST API: predictions from JSON instances or an uploaded image, the model card, and
// ground truth for earlier predictions.
import type { AppDeps, RouteDef } from '../route.js';
import type { Serving } from '../serving.js';
import { predictionRequest } from './prediction.js';

export function restRoutes(d: Pick<AppDeps, 'labels' | 'modelCard' | 'uploads'>, serving: Serving): RouteDef[] {
  return [
    {
      method: 'POST', path: '/v1/models/:model/predict', scope: 'predict',
      handler: async (ctx) => {
        const { predictor, explain, body } = await predictionRequest(ctx, serving, d.uploads);
        return { json: await predictor.predictBody(body, ctx.caller, ctx.requestId, explain) };
      },
    },
    {
      method: 'GET', path: '/v1/models/:model/card',
      handler: (ctx) => {
        serving.checkModel(ctx.params);
        return { json: { name: serving.modelName, version: serving.modelVersion, labels: d.labels, ...d.modelCard() } };
      },
    },
    {
      method: 'POST', path: '/v1/feedback', scope: 'feedback',
      handler: async (ctx) => {
        const predictor = serving.predictor();
        const body = await ctx.body();
        // 202: accepted; the operator joins it with the prediction, wherever that was made.
        return { status: 202, json: predictor.feedback(body.kind === 'json' ? body.value : undefined) };
      },
    },
  ];
}
