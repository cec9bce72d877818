// The HTTP surface: thin routes over the Predictor, one authentication step, one error handler that
// turns every failure into {"error","code","field"} with the right status and never a stack trace.
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ApiKeys } from '../auth/api-keys.js';
import { ServerError } from '../errors.js';
import type { ServerMetrics } from '../metrics.js';
import type { FeedbackStore } from '../monitoring/feedback.js';
import type { FeedbackResponse, WindowResponse } from '../monitoring/wire.js';
import type { PredictionWindow } from '../monitoring/window.js';
import type { Predictor } from '../predictor.js';

export interface ServerState {
  /**
   * stopping: told to stop, no longer ready (so the Service stops sending), still serving what arrives
   * while that news spreads; draining: refusing new work (503), finishing what was accepted.
   */
  phase: 'loading' | 'ready' | 'failed' | 'stopping' | 'draining';
  reason?: string;
  /** Worker threads alive; readiness fails while none is (a lost worker is being replaced). */
  workersAlive?: () => number;
  /** The execution provider in use once ready, and the one asked for (CUDA falls back to CPU). */
  provider?: { active: string; requested: string; note?: string };
  /** Why a failed model failed, as a stable word (it prefixes the container's termination message). */
  failure?: 'DigestMismatch' | 'ModelRejected' | 'LoadFailed';
  predictor?: Predictor;
}

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
  metrics: ServerMetrics;
  epoch: string;
  log: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

const SERVER_VERSION = '0.1.0';
type Handler = (req: Request, res: Response) => unknown;

export function createApp(d: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  // Request id and metrics around everything.
  app.use((req, res, next) => {
    const given = req.get('x-request-id');
    const id = given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    res.locals.requestId = id;
    res.set('x-request-id', id);
    if (d.state.phase === 'stopping' || d.state.phase === 'draining') res.set('connection', 'close');
    const end = d.metrics.duration.startTimer();
    res.on('finish', () => {
      const route = (res.locals.route as string | undefined) ?? 'unmatched';
      const labels = { model: d.modelName, route, code: String(res.statusCode) };
      end(labels);
      d.metrics.requests.inc(labels);
    });
    next();
  });

  const open = !d.protectHealth;
  const route = (path: string, isOpen: boolean, methods: Partial<Record<'get' | 'post', Handler>>, images = false) => {
    const r = app.route(path);
    const wrap = (h: Handler) => async (req: Request, res: Response, next: NextFunction) => {
      res.locals.route = path;
      try {
        if (!isOpen) authenticate(req, res, d.keys);
        await h(req, res);
      } catch (err) {
        next(err);
      }
    };
    if (methods.get) r.get(wrap(methods.get));
    if (methods.post) r.post(images ? jsonOrImageBody(d.bodyLimitBytes) : jsonBody(d.bodyLimitBytes), wrap(methods.post));
    r.all((req, res, next) => {
      res.locals.route = path;
      res.set('allow', Object.keys(methods).map((m) => m.toUpperCase()).join(', '));
      next(new ServerError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}`));
    });
  };

  const predictor = (): Predictor => {
    if ((d.state.phase !== 'ready' && d.state.phase !== 'stopping') || !d.state.predictor) {
      throw new ServerError('NOT_READY', d.state.phase === 'draining' ? 'the server is shutting down' : `the model is not ready: ${d.state.reason ?? d.state.phase}`, undefined, { 'retry-after': '5' });
    }
    return d.state.predictor;
  };
  const model = (req: Request): void => {
    if (req.params.model !== d.modelName) throw new ServerError('MODEL_NOT_FOUND', `no model named "${String(req.params.model).slice(0, 64)}"; this server serves "${d.modelName}"`, 'model');
    if (req.params.version !== undefined && req.params.version !== d.modelVersion) {
      throw new ServerError('MODEL_NOT_FOUND', `model "${d.modelName}" has no version "${String(req.params.version).slice(0, 64)}"; it serves "${d.modelVersion}"`, 'version');
    }
  };
  const noWorkers = () => d.state.phase === 'ready' && (d.state.workersAlive?.() ?? 1) === 0;
  const ready = () => d.state.phase === 'ready' && !noWorkers();
  const notReady = () => new ServerError('NOT_READY', noWorkers() ? 'not ready: no inference worker is alive (one is being replaced)'
    : d.state.reason ? `not ready: ${d.state.reason}` : `not ready: ${d.state.phase}`);

  // Health (the seeds' /health, Kubernetes probes, and the OIP's).
  route('/health', open, {
    get: (_q, res) => res.status(ready() ? 200 : 503).json({ status: ready() ? 'healthy' : d.state.phase, modelLoaded: ready(), model: { name: d.modelName, version: d.modelVersion }, ...(d.state.reason ? { reason: d.state.reason } : {}) }),
  });
  route('/health/live', open, { get: (_q, res) => res.json({ live: true }) });
  // The provider in use is part of readiness: the operator reads it to report a GPU model served on CPU.
  route('/health/ready', open, {
    get: (_q, res) => {
      if (!ready()) throw notReady();
      const p = d.state.provider;
      res.json({ ready: true, ...(p ? { executionProvider: p.active, requestedExecutionProvider: p.requested, ...(p.note ? { executionProviderNote: p.note } : {}) } : {}) });
    },
  });
  route('/v2/health/live', open, { get: (_q, res) => res.json({ live: true }) });
  route('/v2/health/ready', open, {
    get: (_q, res) => {
      if (!ready()) throw notReady();
      res.json({ ready: true });
    },
  });
  route('/metrics', open, {
    get: async (_q, res) => {
      res.set('content-type', d.metrics.registry.contentType).send(await d.metrics.registry.metrics());
    },
  });

  // Open Inference Protocol v2.
  route('/v2', false, { get: (_q, res) => res.json({ name: 'clinops', version: SERVER_VERSION, extensions: [] }) });
  const metadata: Handler = (req, res) => {
    model(req);
    const sig = predictor().signature;
    res.json({
      name: d.modelName,
      versions: [d.modelVersion],
      platform: 'onnxruntime_onnx',
      inputs: sig.inputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape })),
      outputs: sig.outputs.map((s) => ({ name: s.name, datatype: s.datatype, shape: s.shape })),
    });
  };
  route('/v2/models/:model', false, { get: metadata });
  route('/v2/models/:model/versions/:version', false, { get: metadata });
  const modelReady: Handler = (req, res) => {
    model(req);
    if (!ready()) throw notReady();
    res.json({ name: d.modelName, ready: true });
  };
  route('/v2/models/:model/ready', false, { get: modelReady });
  route('/v2/models/:model/versions/:version/ready', false, { get: modelReady });
  const infer: Handler = async (req, res) => {
    model(req);
    const r = await predictor().inferOip(req.body, (res.locals.keyId as string | undefined) ?? null, res.locals.binary as Uint8Array | undefined);
    res.json({ model_name: d.modelName, model_version: d.modelVersion, id: r.id, outputs: r.outputs });
  };
  route('/v2/models/:model/infer', false, { post: infer });
  route('/v2/models/:model/versions/:version/infer', false, { post: infer });

  // Versioned REST.
  route('/v1/models/:model/predict', false, {
    post: async (req, res) => {
      model(req);
      const keyId = (res.locals.keyId as string | undefined) ?? null;
      res.json(Buffer.isBuffer(req.body)
        ? await predictor().predictImages([req.body], keyId, res.locals.requestId as string)
        : await predictor().predictInstances(req.body, keyId));
    },
  }, true);
  route('/v1/models/:model/card', false, {
    get: (req, res) => {
      model(req);
      res.json({ name: d.modelName, version: d.modelVersion, labels: d.labels, ...d.modelCard() });
    },
  });
  route('/v1/feedback', false, { post: (req, res) => res.json(predictor().feedback(req.body)) });
  // Signals only, no PHI: open like /metrics, so the operator's drift checks need no API key.
  route('/v1/monitoring/window', open, {
    get: (req, res) => {
      const after = parseCount(req.query.after, 'after', 0);
      const limit = parseCount(req.query.limit, 'limit', d.window.capacity);
      const { samples, dropped } = d.window.after(after, Math.max(1, limit));
      const body: WindowResponse = {
        model: { name: d.modelName, version: d.modelVersion }, epoch: d.epoch, seq: d.window.lastSeq, samples, dropped, capacity: d.window.capacity,
      };
      res.json(body);
    },
  });

  // Predictions that received ground truth: predicted label, true label and probabilities, no input.
  route('/v1/monitoring/feedback', open, {
    get: (req, res) => {
      const after = parseCount(req.query.after, 'after', 0);
      const limit = parseCount(req.query.limit, 'limit', d.feedback.labelled.capacity);
      const { samples, dropped } = d.feedback.labelled.after(after, Math.max(1, limit));
      const body: FeedbackResponse = {
        model: { name: d.modelName, version: d.modelVersion }, epoch: d.epoch, seq: d.feedback.labelled.lastSeq, samples, dropped,
        capacity: d.feedback.labelled.capacity,
      };
      res.json(body);
    },
  });

  app.use((req, res, next) => {
    res.locals.route = res.locals.route ?? 'unmatched';
    next(new ServerError('NOT_FOUND', `no route ${req.method} ${req.path.slice(0, 128)}`));
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const e = toServerError(err);
    if (e.status >= 500 && e.code !== 'NOT_READY' && e.code !== 'QUEUE_FULL' && e.code !== 'SHUTTING_DOWN') {
      d.log('error', 'request failed', { requestId: res.locals.requestId, code: e.code, error: err instanceof Error ? err.message : String(err) });
    }
    res.status(e.status).set(e.headers).json(e.toJSON());
  });
  return app;
}

function parseCount(v: unknown, field: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d{1,15}$/.test(v) || !Number.isSafeInteger(n)) {
    throw new ServerError('BAD_REQUEST', `${field} must be a whole number ≥ 0`, field);
  }
  return n;
}

function jsonBody(limit: number) {
  const parse = express.json({ limit, strict: true, type: () => true });
  const raw = express.raw({ limit, type: () => true });
  const binary = (req: Request, res: Response, next: NextFunction) => raw(req, res, (err?: unknown) => {
    if (err) return next(err);
    const len = Number(req.get('inference-header-content-length'));
    const body = req.body as Buffer;
    if (!Number.isSafeInteger(len) || len < 2 || len > body.length) {
      return next(new ServerError('BAD_REQUEST', `Inference-Header-Content-Length must be the JSON header's length (1 to ${body.length})`, 'inference-header-content-length'));
    }
    try {
      req.body = JSON.parse(body.subarray(0, len).toString('utf8'));
    } catch {
      return next(new ServerError('INVALID_JSON', 'the inference header is not valid JSON', 'body'));
    }
    res.locals.binary = body.subarray(len);
    return next();
  });
  return (req: Request, res: Response, next: NextFunction) => {
    const type = req.get('content-type') ?? '';
    // The OIP binary tensor extension: a JSON header of the given length, then raw tensor bytes.
    if (req.get('inference-header-content-length') !== undefined) return binary(req, res, next);
    // OIP clients (tritonclient among them) send JSON with no Content-Type at all; read that as JSON.
    if (type !== '' && !/^application\/json\b/i.test(type)) {
      return next(new ServerError('UNSUPPORTED_MEDIA_TYPE', `send Content-Type: application/json, or image/png or image/jpeg for an image (got "${type.slice(0, 64) || 'none'}")`, 'content-type'));
    }
    return parse(req, res, next);
  };
}

/** JSON, or an uploaded image as the raw body (Content-Type image/png or image/jpeg). */
function jsonOrImageBody(limit: number) {
  const json = jsonBody(limit);
  const raw = express.raw({ limit, type: () => true });
  return (req: Request, res: Response, next: NextFunction) => {
    const type = req.get('content-type') ?? '';
    if (/^image\/(png|jpeg|jpg)\b/i.test(type)) return raw(req, res, next);
    if (/^image\//i.test(type)) return next(new ServerError('UNSUPPORTED_MEDIA_TYPE', `unsupported image type "${type.slice(0, 64)}"; send image/png or image/jpeg`, 'content-type'));
    return json(req, res, next);
  };
}

/** X-API-Key or Authorization: Bearer; 401 when absent, 403 when unknown. */
function authenticate(req: Request, res: Response, keys: ApiKeys | undefined): void {
  if (!keys) return;
  const bearer = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
  const presented = req.get('x-api-key') ?? bearer;
  if (!presented) {
    throw new ServerError('UNAUTHENTICATED', 'an API key is required: send X-API-Key or Authorization: Bearer', 'x-api-key', { 'www-authenticate': 'Bearer' });
  }
  const id = keys.identify(presented);
  if (!id) throw new ServerError('FORBIDDEN', 'the API key is not valid', 'x-api-key');
  res.locals.keyId = id;
}

function toServerError(err: unknown): ServerError {
  if (err instanceof ServerError) return err;
  const e = err as { type?: string; status?: number; limit?: number };
  if (e?.type === 'entity.too.large') return new ServerError('PAYLOAD_TOO_LARGE', `the body is larger than the limit of ${e.limit} bytes`, 'body');
  if (e?.type === 'entity.parse.failed') return new ServerError('INVALID_JSON', 'the body is not valid JSON', 'body');
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') return new ServerError('UNSUPPORTED_MEDIA_TYPE', 'unsupported body encoding', 'content-encoding');
  if (e?.type === 'request.aborted') return new ServerError('BAD_REQUEST', 'the request was aborted', 'body');
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) return new ServerError('BAD_REQUEST', 'the request could not be read', 'body');
  return new ServerError('INTERNAL', 'internal error');
}
