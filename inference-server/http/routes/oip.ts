// The Open Inference Protocol v2: server and model metadata, model readiness, and inference (JSON
// tensors, or the binary tensor extension).
import { fail } from '../../errors.js';
import type { RequestContext, RouteDef } from '../route.js';
import type { Serving } from '../serving.js';

const SERVER_VERSION = '0.1.0';

export function oipRoutes(serving: Serving): RouteDef[] {
  const metadata = (ctx: RequestContext) => {
    serving.checkModel(ctx.params);
    const sig = serving.predictor().signature;
    return {
      json: {
        name: serving.modelName,
        versions: [serving.modelVersion],
        platform: 'onnxruntime_onnx',
        inputs: sig.inputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape })),
        outputs: sig.outputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape })),
      },
    };
  };
  const ready = (ctx: RequestContext) => {
    serving.checkModel(ctx.params);
    if (!serving.ready()) throw serving.notReady();
    return { json: { name: serving.modelName, ready: true } };
  };
  const infer = async (ctx: RequestContext) => {
    serving.checkModel(ctx.params);
    const predictor = serving.predictor();
    const body = await ctx.body({ tensors: true });
    if (body.kind === 'image' || body.kind === 'images' || body.kind === 'related') throw fail('tensorsOnly', {}, 'content-type');
    const r = body.kind === 'tensors'
      ? await predictor.inferOip(body.header, ctx.caller, body.binary, body.owned)
      : await predictor.inferOip(body.value, ctx.caller);
    return { json: { model_name: serving.modelName, model_version: serving.modelVersion, id: r.id, outputs: r.outputs } };
  };
  return [
    { method: 'GET', path: '/v2', handler: () => ({ json: { name: 'clinops', version: SERVER_VERSION, extensions: [] } }) },
    { method: 'GET', path: '/v2/models/:model', handler: metadata },
    { method: 'GET', path: '/v2/models/:model/versions/:version', handler: metadata },
    { method: 'GET', path: '/v2/models/:model/ready', handler: ready },
    { method: 'GET', path: '/v2/models/:model/versions/:version/ready', handler: ready },
    { method: 'POST', path: '/v2/models/:model/infer', scope: 'predict', handler: infer },
    { method: 'POST', path: '/v2/models/:model/versions/:version/infer', scope: 'predict', handler: infer },
  ];
}
