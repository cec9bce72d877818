// The inference server process: listen at once (liveness answers while the model loads), verify the
// artifact's sha256, load it into the worker pool, then become ready. On a mismatch it stays live and
// never ready, saying why. SIGTERM: not ready, keep serving for the drain delay (while the Service
// forgets this replica), then stop accepting, finish what was accepted, exit.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:https';
import { readTlsPair, watchTlsPair } from './http/tls.js';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../contract/log.js';
import { AuditLog } from './audit/audit-log.js';
import { ApiKeys, parseSingleKey } from './auth/api-keys.js';
import type { ServerConfig } from './config.js';
import { answerClientError, createHandler, type ServerState } from './http/app.js';
import { ServerMetrics } from './metrics.js';
import { modelCardSource } from './model/card.js';
import { Scheduler } from './model/scheduler.js';
import { probabilityOutput } from './model/signature.js';
import { FeatureCounts, featureEdges } from './signals/feature-counts.js';
import { JobStore } from './jobs/job-store.js';
import { DicomIntake } from './dicomweb/intake.js';
import { Serving } from './http/serving.js';
import { FeedbackStore } from './signals/feedback.js';
import { PredictionWindow } from './signals/window.js';
import { MAX_INSTANCES, Predictor } from './predictor.js';
import { DecodePool } from './preprocess/decode-pool.js';
import { ShadowMirror } from './shadow/mirror.js';

export interface RunningServer {
  port: number;
  /** Where /v1/monitoring/* is served: `port` unless a monitoring port is set. */
  monitoringPort: number;
  state: ServerState;
  /** Resolves once the model is ready or has failed to load. */
  loaded: Promise<void>;
  shutdown(): Promise<void>;
}

export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function startServer(cfg: ServerConfig): Promise<RunningServer> {
  const log = createLogger(cfg.logLevel, { component: 'inference-server', model: cfg.modelName, version: cfg.modelVersion });
  const state: ServerState = { phase: 'loading', ...(cfg.startHeld ? { held: { reason: 'started held: the operator has not released this replica yet', since: new Date().toISOString() } } : {}) };
  const metrics = new ServerMetrics(cfg.modelName);
  const window = new PredictionWindow(cfg.windowSize);
  const feedback = new FeedbackStore(cfg.feedbackCapacity);
  // A bad feature reference stops the server at start, as a bad setting does: drift would be blind.
  const features = cfg.featureReferenceFile
    ? new FeatureCounts(featureEdges(await readFile(cfg.featureReferenceFile, 'utf8').catch((err: Error) => {
      throw new Error(`feature reference ${cfg.featureReferenceFile} cannot be read: ${err.message}`);
    }), `feature reference ${cfg.featureReferenceFile}`), cfg.windowSize)
    : undefined;
  const audit = new AuditLog((lines) => process.stdout.write(lines), cfg.auditFile);
  state.auditFailure = () => audit.failure;
  let keys: ApiKeys | undefined;
  if (cfg.apiKeysFile) {
    keys = new ApiKeys(cfg.apiKeysFile, (msg, f) => log.info(msg, f));
    keys.watch();
  } else {
    log.warn('UNAUTHENTICATED: --allow-unauthenticated is set and there is no API key file; anyone who can reach this port may predict, submit jobs and report ground truth');
  }
  let monitoringKey: ApiKeys | undefined;
  if (cfg.monitoringKeyFile) {
    monitoringKey = new ApiKeys(cfg.monitoringKeyFile, (msg, f) => log.info(msg.replace('api keys', 'monitoring key'), f), parseSingleKey('monitoring'));
    monitoringKey.watch();
  }
  const mirror = new ShadowMirror({ onOutcome: (outcome) => metrics.shadow(outcome), ca: cfg.tlsCaFile ? () => readFileSync(cfg.tlsCaFile!) : undefined });
  let scheduler: Scheduler | undefined;
  let decoder: DecodePool | undefined;
  const jobs = new JobStore({ capacity: cfg.jobCapacity, perKey: cfg.jobQuota, ttlMs: cfg.jobTtlMs, idle: () => (scheduler?.queueLength ?? 0) === 0 });
  metrics.jobsWaiting = () => jobs.waiting;
  const dicom = cfg.dicomAccept ? new DicomIntake({
    model: { name: cfg.modelName, version: cfg.modelVersion, sha256: cfg.sha256 }, accept: cfg.dicomAccept, jobs, metrics,
    predictor: () => new Serving(state, cfg.modelName, cfg.modelVersion).predictor(),
    destination: cfg.dicomDestination ? { url: cfg.dicomDestination, ...(cfg.dicomDestinationCredentials ? { credentialsDir: cfg.dicomDestinationCredentials } : {}), ...(cfg.dicomDestinationCa ? { caFile: cfg.dicomDestinationCa } : {}) } : undefined,
    log: (level, msg, f) => log[level](msg, f),
  }) : undefined;
  if (state.held) dicom?.hold(true);
  const deps = {
    state, jobs, ...(dicom ? { dicom } : {}), modelName: cfg.modelName, modelVersion: cfg.modelVersion, labels: cfg.labels, modelCard: modelCardSource(cfg.modelCard, cfg.modelCardFile),
    bodyLimitBytes: cfg.bodyLimitBytes, uploads: { fileBytes: cfg.uploadFileBytes, files: cfg.maxUploads }, keys, monitoringKey, protectHealth: cfg.protectHealth,
    ...(cfg.subgroupHeader && cfg.subgroups ? { subgroups: { header: cfg.subgroupHeader, values: new Set(cfg.subgroups) } } : {}), window, feedback, features, metrics, mirror,
    epoch: new Date().toISOString(), log: (level: 'info' | 'warn' | 'error', msg: string, f?: Record<string, unknown>) => log[level](msg, f),
  };
  const apart = cfg.monitoringPort !== undefined;
  // TLS on every listener when a certificate is given; a bad pair at start stops the server, as a bad setting does.
  const tls = cfg.tlsCertFile && cfg.tlsKeyFile ? { certFile: cfg.tlsCertFile, keyFile: cfg.tlsKeyFile } : undefined;
  const pair = tls ? readTlsPair(tls) : undefined;
  const secure: TlsServer[] = [];
  const listen = async (port: number, surface: 'all' | 'serving' | 'monitoring') => {
    const handler = createHandler(deps, surface);
    // A request must arrive whole within --read-timeout (then 408): a slow-loris client holds no socket for ever.
    const timing = { requestTimeout: cfg.readTimeoutMs, headersTimeout: cfg.readTimeoutMs, connectionsCheckingInterval: Math.min(1000, cfg.readTimeoutMs / 4) };
    const server: Server = pair ? createTlsServer({ ...pair, ...timing, minVersion: 'TLSv1.2' }, handler) : createServer(timing, handler);
    server.on('clientError', answerClientError(cfg.readTimeoutMs));
    if (pair) secure.push(server as TlsServer);
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, cfg.host, () => resolve());
    });
    return server;
  };
  const server = await listen(cfg.port, apart ? 'serving' : 'all');
  const monitoringServer = apart ? await listen(cfg.monitoringPort!, 'monitoring') : undefined;
  const port = (server.address() as AddressInfo).port;
  const monitoringPort = monitoringServer ? (monitoringServer.address() as AddressInfo).port : port;
  log.info('listening', { port, monitoringPort, tls: tls !== undefined });
  const stopTls = tls ? watchTlsPair(tls, (p) => secure.forEach((x) => x.setSecureContext({ ...p, minVersion: 'TLSv1.2' })), (level, msg, f) => log[level](msg, f)) : undefined;

  const loaded = (async () => {
    const t0 = Date.now();
    try {
      const actual = await fileSha256(cfg.modelPath);
      if (actual !== cfg.sha256) {
        state.phase = 'failed';
        state.failure = 'DigestMismatch';
        state.reason = `sha256 of ${cfg.modelPath} is ${actual}, expected ${cfg.sha256}; refusing to serve it`;
        log.error('model artifact rejected', { path: cfg.modelPath, expected: cfg.sha256, actual });
        return;
      }
      scheduler = await Scheduler.start({
        modelPath: cfg.modelPath, executionProvider: cfg.executionProvider, intraOpThreads: cfg.intraOpThreads, allowSpinning: cfg.allowSpinning,
        workers: cfg.workers, maxBatchSize: cfg.maxBatchSize, maxQueueDelayMs: cfg.maxQueueDelayMs, batchWait: cfg.batchWait, maxQueue: cfg.maxQueue, inlineBelowUs: cfg.inlineBelowUs,
        timeoutMs: cfg.requestTimeoutMs,
        onPoolEvent: (msg, fields) => log[msg === 'worker respawned' ? 'info' : 'error'](msg, fields),
      });
      const started = scheduler;
      metrics.queueLength = () => started.queueLength;
      if (!probabilityOutput(scheduler.signature.outputs, cfg.labels.length)) {
        state.phase = 'failed';
        state.failure = 'ModelRejected';
        state.reason = `the model needs an FP32 output of probabilities shaped [batch, ${cfg.labels.length}], one column per label; ` +
          `its outputs are ${scheduler.signature.outputs.map((o) => `"${o.name}" ${o.datatype} [${o.shape.join(', ')}]`).join(', ') || 'none'}`;
        log.error('model rejected', { reason: state.reason });
        return;
      }
      const input = scheduler.signature.inputs[0]!;
      const pre = cfg.preprocessing;
      if (pre) {
        const want = [pre.channels, pre.height, pre.width];
        const got = input.shape.slice(1);
        if (scheduler.signature.inputs.length !== 1 || input.datatype !== 'FP32' || got.length !== 3 || got.some((d, i) => d !== -1 && d !== want[i])) {
          state.phase = 'failed';
          state.failure = 'ModelRejected';
          state.reason = `image preprocessing makes [batch, ${want.join(', ')}] FP32 tensors, but the model's input "${input.name}" is ${input.datatype} [${input.shape.join(', ')}]`;
          log.error('model rejected', { reason: state.reason });
          return;
        }
      }
      if (features?.image) {
        if (input.shape.length !== 4) {
          state.phase = 'failed';
          state.failure = 'ModelRejected';
          state.reason = `the feature reference names per-image summaries, but the model's input "${input.name}" is [${input.shape.join(', ')}], not an image batch [batch, channels, height, width]`;
          log.error('model rejected', { reason: state.reason });
          return;
        }
      } else if (features) {
        const cols = input.shape.length === 2 ? input.shape[1] : undefined;
        if (cols !== features.width) {
          state.phase = 'failed';
          state.failure = 'ModelRejected';
          state.reason = `the feature reference names ${features.width} features, but the model's input "${input.name}" is [${input.shape.join(', ')}]: ` +
            `per-feature drift needs a [batch, ${features.width}] input`;
          log.error('model rejected', { reason: state.reason });
          return;
        }
      }
      if (cfg.executionProvider === 'cuda' && scheduler.provider !== 'cuda') {
        log.warn('CUDA execution provider not available; serving on CPU', { reason: scheduler.providerNote });
      }
      // Images and studies are decoded in threads of their own, never on the HTTP thread.
      decoder = cfg.preprocessing ? await DecodePool.start({
        threads: cfg.decodeThreads, perKey: cfg.decodePerKey, deadlineMs: cfg.requestTimeoutMs,
        preprocessing: cfg.preprocessing, limits: { budgetBytes: cfg.decodeBudgetBytes, maxRows: MAX_INSTANCES },
        onEvent: (msg, fields) => log.warn(msg, fields),
      }) : undefined;
      if (decoder) {
        const d = decoder;
        metrics.decodes = () => ({ waiting: d.queueLength, decoding: d.decoding });
      }
      state.predictor = new Predictor({
        scheduler, modelName: cfg.modelName, modelVersion: cfg.modelVersion, labels: cfg.labels, window, feedback, audit, metrics,
        preprocessing: cfg.preprocessing, decodeBudgetBytes: cfg.decodeBudgetBytes, ...(decoder ? { decoder } : {}), features, mirror,
      });
      const pool = scheduler;
      state.workersAlive = () => pool.liveWorkers;
      state.provider = { active: scheduler.provider, requested: cfg.executionProvider, ...(scheduler.providerNote ? { note: scheduler.providerNote } : {}) };
      state.phase = 'ready';
      log.info('model ready', {
        ms: Date.now() - t0, provider: scheduler.provider, workers: cfg.workers, intraOpThreads: cfg.intraOpThreads,
        batching: scheduler.batching ? { maxBatchSize: cfg.maxBatchSize, maxQueueDelayMs: cfg.maxQueueDelayMs, wait: cfg.batchWait } : false,
        allowSpinning: cfg.allowSpinning,
        inputs: scheduler.signature.inputs, outputs: scheduler.signature.outputs,
      });
    } catch (err) {
      state.phase = 'failed';
      state.failure = 'LoadFailed';
      state.reason = `the model could not be loaded: ${(err as Error).message.split('\n')[0]}`;
      log.error('model load failed', { error: err });
    }
  })();

  let closing: Promise<void> | undefined;
  const shutdown = () => {
    closing ??= (async () => {
      if (cfg.drainDelayMs > 0 && state.phase === 'ready') {
        // Readiness fails at once, but endpoints and kube-proxy learn it only after a moment: requests
        // that still arrive meanwhile are served, not refused.
        state.phase = 'stopping';
        log.info('stopping', { drainDelayMs: cfg.drainDelayMs });
        await new Promise((r) => setTimeout(r, cfg.drainDelayMs));
      }
      state.phase = 'draining';
      log.info('draining');
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      monitoringServer?.close();
      monitoringServer?.closeAllConnections();
      // A request stuck in a worker must not hold the exit past the pod's grace period: after the
      // deadline what waits is refused and the workers stop, which answers what they were running
      // (a thread stopped inside onnxruntime's native run can abort the process: only past the deadline,
      // when exiting is the point).
      await scheduler?.drain(cfg.drainTimeoutMs);
      await scheduler?.close();
      await decoder?.close();
      const idle = setInterval(() => server.closeIdleConnections(), 50);
      await closed;
      clearInterval(idle);
      keys?.stop();
      monitoringKey?.stop();
      mirror.close();
      stopTls?.();
      jobs.stop();
      dicom?.stop();
      await audit.close();
      log.info('stopped');
    })();
    return closing;
  };
  return { port, monitoringPort, state, loaded, shutdown };
}
