// What /predict and a job both read from a request before predicting: the model the path names, the
// predictor serving it, ?explain, and the body (JSON, an image, or a form's files).
import type { RequestBody, UploadLimits } from '../body.js';
import type { RequestContext } from '../route.js';
import type { Serving } from '../serving.js';
import { type Explain, parseExplain, type Predictor } from '../../predictor.js';

export async function predictionRequest(ctx: RequestContext, serving: Serving, uploads: UploadLimits | undefined): Promise<{ predictor: Predictor; explain?: Explain; body: RequestBody }> {
  serving.checkModel(ctx.params);
  const predictor = serving.predictor();
  const explain = parseExplain(ctx.query);
  const body = await ctx.body({ images: true, uploads });
  return { predictor, ...(explain ? { explain } : {}), body };
}
