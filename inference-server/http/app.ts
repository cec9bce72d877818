// The HTTP surface on node:http: a request id and metrics around every request, one authentication
// step, the route found by the router, and one error handler that turns every failure into
// {"error","code","field"} with the right status and never a stack trace. The routes live by concern
// in routes/ (health, OIP, REST, monitoring); each parses, calls the domain and returns what to send.
// Not express: on the tiny models a bedside alert runs, its per-request machinery cost more than the
// model (see docs/figures.md).
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { fail, ServerError } from '../errors.js';
import { readBody } from './body.js';
import { Router } from './router.js';
import { healthRoutes, metricsRoute } from './routes/health.js';
import { monitoringRoutes } from './routes/monitoring.js';
import { oipRoutes } from './routes/oip.js';
import { jobRoutes } from './routes/jobs.js';
import { dicomMonitoringRoute, dicomwebRoutes } from './routes/dicomweb.js';
import { restRoutes } from './routes/rest.js';
import { shadowRoutes } from './routes/shadow.js';
import { holdRoutes } from './routes/hold.js';
import type { AppDeps, Reply, RequestContext, RouteDef } from './route.js';
import { Serving } from './serving.js';

export type { ServerState } from './serving.js';

/** Answers 5xx without logging them as failures: the server is busy or going, not broken. */
const EXPECTED_5XX = new Set(['NOT_READY', 'QUEUE_FULL', 'SHUTTING_DOWN', 'HELD']);

/**
 * `surface`: which routes this listener serves — all of them, or (with a separate monitoring port, which
 * a NetworkPolicy can open to the operator alone) the serving routes or the monitoring signals.
 */
export function createHandler(d: AppDeps, surface: 'all' | 'serving' | 'monitoring' = 'all'): (req: IncomingMessage, res: ServerResponse) => void {
  const serving = new Serving(d.state, d.modelName, d.modelVersion);
  const router = new Router<RouteDef>();
  const routes = [
    ...(surface === 'monitoring' ? [] : [...healthRoutes(d, serving), ...oipRoutes(serving), ...restRoutes(d, serving), ...(d.jobs ? jobRoutes(d.jobs, serving, d.uploads) : []), ...dicomwebRoutes(d.dicom, serving)]),
    ...(surface === 'serving' ? [] : [...monitoringRoutes(d), ...shadowRoutes(d.mirror, serving), dicomMonitoringRoute(d.dicom), ...holdRoutes(d.state, d.dicom, (level, msg) => d.log(level, msg))]),
    metricsRoute(d),
  ];
  for (const r of routes) router.add(r.method, r.path, r);
  const observe = d.metrics.requestObserver();

  const metrics = d.metrics;
  return (req, res) => {
    const started = performance.now();
    if (surface !== 'monitoring') {
      metrics.inFlight++;
      res.once('close', () => metrics.inFlight--);
    }
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
      if (res.headersSent) return;
      // Refused before its body was read (413, 401, 403, 415 …): the rest is read and discarded first,
      // bounded, then answered, so every client — with or without Expect: 100-continue — reads the answer
      // (Node closes a connection whose request body is unread when the answer ends).
      linger(req, Math.max(LINGER_BYTES, 4 * d.bodyLimitBytes), LINGER_MS, (drained) =>
        send(e.status, JSON.stringify(e.toJSON()), 'application/json; charset=utf-8', drained ? e.headers : { ...e.headers, connection: 'close' }));
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
      const keyId = authenticate(req, route, d, surface);
      const subgroup = subgroupOf(req, d);
      const ctx: RequestContext = {
        params: m.params,
        query: new URLSearchParams(q < 0 ? '' : req.url!.slice(q + 1)),
        requestId,
        keyId,
        caller: subgroup ? { keyId, subgroup } : { keyId },
        body: (accepts) => readBody(req, d.bodyLimitBytes, accepts),
      };
      const reply = route.handler(ctx);
      const deliver = (r: Reply) => {
        if ('json' in r) send(r.status ?? 200, JSON.stringify(r.json), 'application/json; charset=utf-8', r.headers);
        else send(r.status ?? 200, r.text, r.contentType);
      };
      if (reply instanceof Promise) reply.then(deliver, answerError);
      else deliver(reply);
    } catch (err) {
      answerError(err);
    }
  };
}

/**
 * Who may call a route. Open routes: anyone (unless protectHealth). /metrics: anyone on the monitoring
 * port (kept apart, a NetworkPolicy gives it to the operator and the scrapers), an API key holder on the
 * serving port when keys are configured. The monitoring signals: the monitoring key's holder when one is
 * configured (the operator), else an API key holder. Shadow control and mirrored copies: the monitoring
 * key alone, and nobody without one (they send every patient's input where the caller says). The rest:
 * an API key holder with the route's scope. The key's id, or null where no key is needed.
 */
function authenticate(req: IncomingMessage, route: RouteDef, d: AppDeps, surface: 'all' | 'serving' | 'monitoring'): string | null {
  if (route.operatorOnly && !d.monitoringKey) throw fail('monitoringKeyRequired', {}, 'authorization');
  if (route.metrics) return surface === 'monitoring' || !d.keys ? null : d.keys.authenticate(req);
  if (route.monitoring && d.monitoringKey) return d.monitoringKey.authenticate(req);
  if (route.open && !d.protectHealth) return null;
  return d.keys ? d.keys.authenticate(req, route.scope) : null;
}

/**
 * The subgroup a request names in the model's subgroup header: one of the declared values, or none. Any
 * other value is refused (400) rather than recorded: what is stored with a prediction is never free text.
 */
function subgroupOf(req: IncomingMessage, d: AppDeps): string | undefined {
  if (!d.subgroups) return undefined;
  const raw = req.headers[d.subgroups.header];
  if (raw === undefined) return undefined;
  const value = (Array.isArray(raw) ? raw.join(',') : raw).trim().toLowerCase();
  if (!d.subgroups.values.has(value)) {
    throw fail('subgroupUnknown', { allowed: [...d.subgroups.values].join(', '), given: JSON.stringify(value.slice(0, 64)) }, `header ${d.subgroups.header}`);
  }
  return value;
}

/** How much of a refused body is read and thrown away, and for how long, before the connection is cut. */
const LINGER_BYTES = 64 * 1024 ** 2;
const LINGER_MS = 5000;
const LINGERING = Symbol('lingering');

/**
 * nginx's lingering close: the rest of a refused request's body is read and discarded — up to `maxBytes`
 * or `maxMs` — and only then is it answered (`drained`: the body ended, so the connection may be kept),
 * instead of closing while the client still sends, which most clients see as a broken pipe and never
 * read the answer. Past the bounds the answer goes out with Connection: close.
 */
export function linger(req: IncomingMessage, maxBytes: number, maxMs: number, answer: (drained: boolean) => void): void {
  const r = req as IncomingMessage & { [LINGERING]?: boolean };
  if (req.complete || req.destroyed || r[LINGERING]) {
    answer(req.complete);
    return;
  }
  r[LINGERING] = true;
  let read = 0;
  let done = false;
  const finish = (drained: boolean) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    answer(drained);
  };
  const timer = setTimeout(() => finish(false), maxMs);
  timer.unref();
  req.on('data', (c: Buffer) => {
    read += c.length;
    if (read > maxBytes) finish(false);
  });
  req.once('end', () => finish(true));
  req.once('close', () => finish(false));
  req.resume();
}

/**
 * What the HTTP parser refused before any route saw it — a request slower than --read-timeout (a
 * slow-loris client), headers past 16 KiB, bytes that are not HTTP — answered as every other error is,
 * in JSON, then the connection closed. Nothing is written once an answer has begun on the socket.
 */
export function answerClientError(readTimeoutMs: number): (err: Error & { code?: string }, socket: Duplex) => void {
  return (err, socket) => {
    const answering = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || answering?.headersSent) {
      socket.destroy();
      return;
    }
    const e = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? fail('requestTimeout', { timeoutMs: readTimeoutMs })
      : err.code === 'HPE_HEADER_OVERFLOW' ? fail('headersTooLarge', {}, 'headers') : fail('requestMalformed');
    const body = JSON.stringify(e);
    socket.end(`HTTP/1.1 ${e.status} ${STATUS_CODES[e.status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  };
}

function toServerError(err: unknown): ServerError {
  return err instanceof ServerError ? err : fail('internal');
}
