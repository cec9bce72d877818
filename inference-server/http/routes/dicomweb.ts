// DICOMweb STOW-RS (PS3.18 10.5): a PACS or router stores studies with the model — POST /dicomweb/studies
// (or /dicomweb/studies/{study}), multipart/related of application/dicom — and is answered as the
// standard says: application/dicom+json naming each instance stored (taken, or acknowledged and
// ignored) and each that failed with its Failure Reason; 200 when all were stored, 202 when some
// failed, 409 when none was. The instances are inferred as jobs and their results stored at the
// destination as SRs (dicomweb/intake.ts). GET /v1/monitoring/dicom: the counts, for the operator.
import { fail } from '../../errors.js';
import type { DicomIntake, StoreResult } from '../../dicomweb/intake.js';
import type { RouteDef } from '../route.js';
import type { Serving } from '../serving.js';

/** Instances one request may carry. */
const MAX_PARTS = 256;

const us = (v: number) => ({ vr: 'US', Value: [v] });
const ui = (v: string) => ({ vr: 'UI', Value: [v] });

/** The STOW-RS answer's body (PS3.18 Table 10.5.3-1) and status. */
export function stowResponse(r: StoreResult, base: string): { status: number; body: Record<string, unknown> } {
  const body: Record<string, unknown> = {};
  if (r.stored.length > 0) {
    body['00081199'] = { vr: 'SQ', Value: r.stored.map((s) => ({ '00081150': ui(s.sopClassUid), '00081155': ui(s.sopInstanceUid), '00081190': { vr: 'UR', Value: [`${base}/instances/${s.sopInstanceUid}`] } })) };
  }
  if (r.failed.length > 0) {
    body['00081198'] = {
      vr: 'SQ',
      Value: r.failed.map((f) => ({ ...(f.sopClassUid ? { '00081150': ui(f.sopClassUid) } : {}), ...(f.sopInstanceUid ? { '00081155': ui(f.sopInstanceUid) } : {}), '00081197': us(f.reason) })),
    };
  }
  return { status: r.failed.length === 0 ? 200 : r.stored.length === 0 ? 409 : 202, body };
}

export function dicomwebRoutes(intake: DicomIntake | undefined, serving: Serving): RouteDef[] {
  const store = (path: string): RouteDef => ({
    method: 'POST', path, scope: 'jobs',
    handler: async (ctx) => {
      if (!intake) throw fail('dicomwebOff', {}, 'path');
      serving.loaded(); // not ready: 503 before anything is taken (held: taken, and they wait)
      const body = await ctx.body({ related: MAX_PARTS });
      if (body.kind !== 'related') throw fail('stowType', { type: body.kind }, 'content-type');
      // A study-level STOW stores instances of that study alone (PS3.18 10.5.1).
      const result = intake.store(body.parts, ctx.keyId, ctx.params.study);
      const { status, body: json } = stowResponse(result, '/dicomweb/studies');
      return { status, text: JSON.stringify(json), contentType: 'application/dicom+json' };
    },
  });
  return [store('/dicomweb/studies'), store('/dicomweb/studies/:study')];
}

export function dicomMonitoringRoute(intake: DicomIntake | undefined): RouteDef {
  return {
    method: 'GET', path: '/v1/monitoring/dicom', monitoring: true,
    handler: () => {
      if (!intake) throw fail('dicomwebOff', {}, 'path');
      return { json: intake.snapshot() };
    },
  };
}
