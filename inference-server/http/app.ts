// The HTTP surface on node:http: a request id and metrics around every request, one authentication
// step, the route found by the router, and one error handler that turns every failure into
// {"error","code","field"} with the right status and never a stack trace. The routes live by concern
// in routes/ (health, OIP, REST, monitoring); each parses, calls the domain and returns what to send.
// Not express: on the tiny models a bedside alert runs, its per-request machinery cost more than the
// model (see the README's benchmark section).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiKeys } from '../auth/api-keys.js';
import { fail, ServerError } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import type { FeatureCounts } from '../monitoring/feature-counts.js';
import type { FeedbackStore } from '../monitoring/feedback.js';
import type { PredictionWindow } from '../monitoring/window.js';
import { type Accepts, readBody, type RequestBody } from './body.js';
import { Router } from './router.js';
import { healthRoutes } from './routes/health.js';
import { monitoringRoutes } from './routes/monitoring.js';
import { oipRoutes } from './routes/oip.js';
import { restRoutes } from './routes/rest.js';
import { Serving, type ServerState } from './serving.js';

export type { ServerState } from './serving.js';

export interface AppDeps {
  state: ServerState;
  modelName: string;
  modelVersion: string;
  labels: readonly string[];
  /** The current model card (it may change while the server runs). */
  modelCard: () => Readonly<Record<string, string>>;
  bodyLimitBytes: number;
  keys: ApiKeys | undefined;
  protectHealth: boolean;
  window: PredictionWindow;
  feedback: FeedbackStore;
  /** Per-feature bin counts, when a feature reference is configured. */
  features?: FeatureCounts;
  metrics: ServerMetrics;
  epoch: string;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

/** What a route is handed: its path parameters, the query, the caller, and the body on demand. */
export interface RequestContext {
  params: Record<string, string>;
  query: URLSearchParams;
  requestId: string;
  /** The API key's id, when keys are configured. */
  keyId: string | null;
  body(accepts?: Accepts): Promise<RequestBody>;
}

/** What a route answers: JSON by default, or text with its content type. */
export type Reply = { status?: number; json: unknown } | { status?: number; text: string; contentType: string };

export interface RouteDef {
  method: 'GET' | 'POST';
  path: string;
  /** Served without an API key (health, metrics and monitoring signals, unless protectHealth). */
  open?: boolean;
  handler: (ctx: RequestContext) => Reply | Promise<Reply>;
}

/** Answers 5xx without logging them as failures: the server is busy or going, not broken. */
const EXPECTED_5XX = new Set(['NOT_READY', 'QUEUE_FULL', 'SHUTTING_DOWN']);

export function createHandler(d: AppDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const serving = new Serving(d.state, d.modelName, d.modelVersion);
  const router = new Router<RouteDef>();
  for (const r of [...healthRoutes(d, serving), ...oipRoutes(serving), ...restRoutes(d, serving), ...monitoringRoutes(d)]) {
    router.add(r.method, r.path, r);
  }
  const observe = d.metrics.requestObserver();

  return (req, res) => {
    const started = performance.now();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    const closing = d.state.phase === 'stopping' || d.state.phase === 'draining';
    let pattern = 'unmatched';
    const send = (status: number, body: string, contentType: string, headers?: Record<string, string>) => {
      res.writeHead(status, {
        'content-type': contentType,
        'content-length': Buffer.byteLength(body),
        'x-request-id': requestId,
        ...(closing ? { connection: 'close' } : {}),
        ...headers,
      });
      res.end(body);
      observe(pattern, status, (performance.now() - started) / 1000);
    };
    const answerError = (err: unknown) => {
      const e = toServerError(err);
      if (e.status >= 500 && !EXPECTED_5XX.has(e.code)) {
        d.log('error', 'request failed', { requestId, code: e.code, error: err instanceof Error ? err.message : String(err) });
      }
      if (!res.headersSent) send(e.status, JSON.stringify(e.toJSON()), 'application/json; charset=utf-8', e.headers);
    };

    try {
      const q = req.url?.indexOf('?') ?? -1;
      const path = q < 0 ? (req.url ?? '/') : req.url!.slice(0, q);
      const m = router.match(req.method ?? 'GET', path);
      if (m.kind === 'none') throw fail('noRoute', { method: String(req.method).slice(0, 16), path: path.slice(0, 128) });
      if (m.kind === 'wrong-method') {
        pattern = m.pattern;
        throw fail('methodNotAllowed', { method: String(req.method).slice(0, 16), pattern: m.pattern }, undefined, { allow: m.allow });
      }
      const route = m.route.handler;
      pattern = m.route.pattern;
      const keyId = route.open && !d.protectHealth ? null : authenticate(req, d.keys);
      const ctx: RequestContext = {
        params: m.params,
        query: new URLSearchParams(q < 0 ? '' : req.url!.slice(q + 1)),
        requestId,
        keyId,
        body: (accepts) => readBody(req, d.bodyLimitBytes, accepts),
      };
      const reply = route.handler(ctx);
      const deliver = (r: Reply) => {
        if ('json' in r) send(r.status ?? 200, JSON.stringify(r.json), 'application/json; charset=utf-8');
        else send(r.status ?? 200, r.text, r.contentType);
      };
      if (reply instanceof Promise) reply.then(deliver, answerError);
      else deliver(reply);
    } catch (err) {
      answerError(err);
    }
  };
}

/** X-API-Key or Authorization: Bearer; 401 when absent, 403 when unknown. The key's id, or null without keys. */
function authenticate(req: IncomingMessage, keys: ApiKeys | undefined): string | null {
  if (!keys) return null;
  const auth = req.headers.authorization;
  const bearer = auth ? /^Bearer\s+(.+)$/i.exec(auth)?.[1] : undefined;
  const header = req.headers['x-api-key'];
  const presented = (typeof header === 'string' ? header : undefined) ?? bearer;
  if (!presented) {
    throw fail('apiKeyRequired', {}, 'x-api-key', { 'www-authenticate': 'Bearer' });
  }
  const id = keys.identify(presented);
  if (!id) throw fail('apiKeyInvalid', {}, 'x-api-key');
  return id;
}

function toServerError(err: unknown): ServerError {
  return err instanceof ServerError ? err : fail('internal');
}
