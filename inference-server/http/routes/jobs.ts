// Asynchronous predictions: POST /v1/models/{m}/jobs takes what /predict takes and answers 202 with the
// job's id and Location; GET /v1/jobs/{id} says queued, running, done (with the body /predict would have
// answered) or failed (with the error shape); DELETE /v1/jobs/{id} cancels a queued job. A job is the
// API key's that made it: any other key gets 404.
import { fail } from '../../errors.js';
import type { JobStore } from '../../jobs/job-store.js';
import type { RouteDef } from '../route.js';
import type { UploadLimits } from '../body.js';
import type { Serving } from '../serving.js';
import { predictionRequest } from './prediction.js';

const NOTE = 'jobs are kept in this server process\'s memory: a restart loses them; finished ones expire';

export function jobRoutes(jobs: JobStore, serving: Serving, uploads: UploadLimits | undefined): RouteDef[] {
  return [
    {
      method: 'POST', path: '/v1/models/:model/jobs', scope: 'jobs',
      handler: async (ctx) => {
        const { predictor, explain, body } = await predictionRequest(ctx, serving, uploads);
        const { keyId, caller, requestId } = ctx;
        const job = jobs.submit(keyId, () => predictor.predictBody(body, caller, requestId, explain));
        const location = `/v1/jobs/${job.id}`;
        return { status: 202, headers: { location }, json: { ...job, location, note: NOTE } };
      },
    },
    {
      method: 'GET', path: '/v1/jobs/:id', scope: 'jobs',
      handler: (ctx) => {
        const job = jobs.get(ctx.params.id!, ctx.keyId);
        if (!job) throw fail('jobNotFound', {}, 'id');
        return { json: job };
      },
    },
    {
      method: 'DELETE', path: '/v1/jobs/:id', scope: 'jobs',
      handler: (ctx) => ({ json: jobs.cancel(ctx.params.id!, ctx.keyId) }),
    },
  ];
}
