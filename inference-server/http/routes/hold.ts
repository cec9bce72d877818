// The operator's hold on a replica (the monitoring key alone): a paused model that takes studies from a
// PACS keeps a replica that takes them, answers no prediction (503 HELD) and sends no result until it is
// released. GET says the state; POST {"held", "reason"} sets it. A server started with --start-held is
// held from its first request, so a replica the operator has not reached yet never sends a result.
import type { HoldRequest, HoldState } from '../../../contract/monitoring.js';
import type { DicomIntake } from '../../dicomweb/intake.js';
import { fail } from '../../errors.js';
import type { RouteDef } from '../route.js';
import type { ServerState } from '../serving.js';

const MAX_REASON = 300;

export function holdRoutes(state: ServerState, intake: DicomIntake | undefined, log: (level: 'info' | 'warn', msg: string) => void): RouteDef[] {
  const current = (): HoldState => (state.held ? { held: true, ...state.held } : { held: false });
  return [
    { method: 'GET', path: '/v1/monitoring/hold', monitoring: true, operatorOnly: true, handler: () => ({ json: current() }) },
    {
      method: 'POST', path: '/v1/monitoring/hold', monitoring: true, operatorOnly: true,
      handler: async (ctx) => {
        const body = await ctx.body();
        const v = body.kind === 'json' ? body.value as Partial<HoldRequest> : undefined;
        if (!v || typeof v !== 'object' || Array.isArray(v) || typeof v.held !== 'boolean' || (v.reason !== undefined && (typeof v.reason !== 'string' || v.reason.length > MAX_REASON))
          || Object.keys(v).some((k) => k !== 'held' && k !== 'reason')) {
          throw fail('holdBody', {}, 'held');
        }
        if (v.held) {
          const reason = v.reason?.trim() || 'held by the operator';
          // Held since the first hold: a new reason does not restart the clock.
          state.held = { reason, since: state.held?.since ?? new Date().toISOString() };
          if (!intake?.isHeld) log('warn', `held: ${reason}`);
          intake?.hold(true);
        } else if (state.held) {
          state.held = undefined;
          intake?.hold(false);
          log('info', 'released: predictions are made and results sent again');
        }
        return { json: current() };
      },
    },
  ];
}
