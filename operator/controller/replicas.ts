// Calls to a model's replicas' monitoring port made by a pass: where it is, and the shadow target that
// tells the serving replicas where the candidate's are (set, renewed every pass, lapses by itself) or to
// stop copying (clear).
import type { ClinicalModel } from '../api/types.js';
import { MONITORING_PORT } from '../desired/monitoring-key.js';
import { CANDIDATE_LABEL } from '../rollout/rollout.js';
import { isReady, type ObservedPod } from '../serving/pods.js';
import { jsonWithin } from '../util/json-within.js';
import type { DicomCountsResponse, HoldRequest, HoldState, ShadowReport } from '../../contract/monitoring.js';
import type { Logger } from '../../contract/log.js';

export function monitoringUrl(ip: string, tls = false): string {
  return `${tls ? 'https' : 'http'}://${ip.includes(':') ? `[${ip}]` : ip}:${MONITORING_PORT}`;
}

/**
 * Set or clear the shadow target on each ready serving replica; what each reported of its copies. A
 * replica that cannot be reached is skipped: the next pass asks again.
 */
export async function shadowTargets(
  cr: ClinicalModel,
  pods: readonly ObservedPod[],
  action: 'set' | 'clear',
  monitoringKey: string,
  fetchFn: typeof fetch,
  log: Logger,
  body?: object,
): Promise<Array<Partial<ShadowReport>>> {
  const tls = cr.spec.serving?.tls !== undefined;
  const serving = pods.filter((p) => isReady(p) && !p.metadata?.labels?.[CANDIDATE_LABEL] && p.status?.podIP);
  const results = await Promise.all(serving.map(async (p) => {
    try {
      const res = await fetchFn(`${monitoringUrl(p.status!.podIP!, tls)}/v1/monitoring/shadow`, {
        method: action === 'set' ? 'POST' : 'DELETE',
        headers: { authorization: `Bearer ${monitoringKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(3000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return await jsonWithin<Partial<ShadowReport>>(res, 64 * 1024);
    } catch (err) {
      log.debug('shadow target not reached', { pod: p.metadata?.name, error: err });
      return undefined;
    }
  }));
  return results.filter((x): x is NonNullable<typeof x> => x !== undefined);
}

/** One replica's PACS counts as the operator sums them: `held` becomes the number of replicas held. */
export type DicomReplicaCounts = Omit<DicomCountsResponse, 'held'> & { held: number };

/** How often a model's replicas are asked for their PACS counts. */
export const DICOM_READ_MS = 15_000;

const DICOM_COUNTS = ['received', 'ignored', 'duplicate', 'inferred', 'delivered', 'failed', 'pending', 'queued'] as const;

/** The PACS path's counts of each ready replica, summed; replicas that cannot be read are left out (and counted). */
export async function dicomCounts(cr: ClinicalModel, pods: readonly ObservedPod[], monitoringKey: string, fetchFn: typeof fetch): Promise<{ totals: DicomReplicaCounts; read: number }> {
  const tls = cr.spec.serving?.tls !== undefined;
  const ready = pods.filter((p) => isReady(p) && p.status?.podIP);
  const reads = await Promise.all(ready.map(async (p) => {
    try {
      const res = await fetchFn(`${monitoringUrl(p.status!.podIP!, tls)}/v1/monitoring/dicom`, { headers: { authorization: `Bearer ${monitoringKey}` }, signal: AbortSignal.timeout(3000) });
      if (!res.ok) return undefined;
      const r = await jsonWithin<Partial<DicomCountsResponse>>(res, 64 * 1024);
      return DICOM_COUNTS.every((k) => Number.isSafeInteger(r[k]) && r[k]! >= 0) && typeof r.held === 'boolean' ? r as DicomCountsResponse : undefined;
    } catch {
      return undefined;
    }
  }));
  const totals: DicomReplicaCounts = { received: 0, ignored: 0, duplicate: 0, inferred: 0, delivered: 0, failed: 0, pending: 0, queued: 0, held: 0, failures: [] };
  let read = 0;
  for (const r of reads) {
    if (!r) continue;
    read++;
    for (const k of DICOM_COUNTS) totals[k] += r[k];
    if (r.held) totals.held++;
    if (Array.isArray(r.failures)) {
      totals.failures.push(...r.failures.filter((f) => typeof f?.at === 'string' && typeof f.reason === 'string').slice(0, 20)
        .map((f) => ({ at: f.at.slice(0, 40), reason: f.reason.slice(0, 300) })));
    }
  }
  totals.failures.sort((a, b) => b.at.localeCompare(a.at));
  return { totals, read };
}

/** Hold or release one replica (POST /v1/monitoring/hold); whether it now says the state asked for. */
export async function holdReplica(url: string, body: HoldRequest, monitoringKey: string, fetchFn: typeof fetch): Promise<boolean> {
  const res = await fetchFn(`${url}/v1/monitoring/hold`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${monitoringKey}` }, body: JSON.stringify(body), signal: AbortSignal.timeout(3000),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return (await jsonWithin<Partial<HoldState>>(res, 16 * 1024)).held === body.held;
}
