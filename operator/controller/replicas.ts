// Calls to a model's replicas' monitoring port made by a pass: where it is, and the shadow target that
// tells the serving replicas where the candidate's are (set, renewed every pass, lapses by itself) or to
// stop copying (clear).
import type { ClinicalModel } from '../api/types.js';
import { MONITORING_PORT } from '../desired/monitoring-key.js';
import { CANDIDATE_LABEL } from '../rollout/rollout.js';
import { isReady, type ObservedPod } from '../serving/pods.js';
import { jsonWithin } from '../util/json-within.js';
import type { ShadowReport } from '../../contract/monitoring.js';
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
