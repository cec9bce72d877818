#!/usr/bin/env node
// The `clinops` command: one binary, several processes (the operator, model fetching; the inference
// server and the drift tools join it as they land).
import { Command, InvalidArgumentError } from 'commander';
// Each command loads its own modules when it runs, so the operator never loads onnxruntime or sharp.
import { readFile } from 'node:fs/promises';
import type { ServerFlags } from '../inference-server/config.js';

const program = new Command()
  .name('clinops')
  .description('Kubernetes operator and tools for clinical ONNX models')
  .version('0.1.0')
  // A usage error (unknown option, bad value) exits 2, as the commands' own errors do.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

program
  .command('operator')
  .description('run the ClinicalModel operator against the current kubeconfig or in-cluster config')
  .option('--kubeconfig <path>', 'kubeconfig file (env KUBECONFIG; default: in-cluster, then ~/.kube/config)')
  .option('--namespace <ns>', 'watch only this namespace (env CLINOPS_WATCH_NAMESPACE; default: all)')
  .option('--workers <n>', 'ClinicalModels reconciled concurrently (env CLINOPS_WORKERS; default 8)')
  .option('--server-image <ref>', 'inference server image (env CLINOPS_SERVER_IMAGE)')
  .option('--no-leader-elect', 'do not use a Lease; only for a single replica (env CLINOPS_LEADER_ELECT=false)')
  .option('--lease-namespace <ns>', 'namespace of the leader Lease (env CLINOPS_LEASE_NAMESPACE, POD_NAMESPACE; default clinops-system)')
  .option('--lease-name <name>', 'name of the leader Lease (env CLINOPS_LEASE_NAME; default clinops-operator)')
  .option('--identity <id>', 'this instance in the Lease (env CLINOPS_IDENTITY; default hostname + random)')
  .option('--http-address <host:port>', '/healthz, /readyz and /metrics (env CLINOPS_HTTP_ADDRESS; default 0.0.0.0:8081)')
  .option('--resync-period <duration>', 'reconcile every model at least this often (env CLINOPS_RESYNC_PERIOD; default 10m)')
  .option('--log-level <level>', 'debug, info, warn or error (env CLINOPS_LOG_LEVEL; default info)')
  .option('--model-endpoint <ns/name=url>', 'read this model\'s monitoring window from URL instead of its pods\' IPs, for an operator outside the cluster; repeatable (env CLINOPS_MODEL_ENDPOINTS, comma-separated)',
    (v: string, acc: string[] | undefined) => [...(acc ?? []), v])
  .action(async (opts) => {
    // commander sets leaderElect=true by default for --no-leader-elect; only an explicit flag counts.
    const explicit = process.argv.includes('--no-leader-elect') ? { leaderElect: false } : { leaderElect: undefined };
    const { runOperator } = await import('../operator/main.js');
    await runOperator({ ...opts, ...explicit }, process.env);
  });

program
  .command('fetch-model')
  .description('download a model over https and verify its sha256 before writing it (init container)')
  .requiredOption('--url <url>', 'https URL of the ONNX file')
  .requiredOption('--sha256 <hex>', 'expected SHA-256 of the file')
  .requiredOption('--out <path>', 'where to write the verified file')
  .action(async (opts: { url: string; sha256: string; out: string }) => {
    const { fetchModel } = await import('./fetch-model.js');
    try {
      const bytes = await fetchModel(opts.url, opts.sha256, opts.out);
      process.stderr.write(JSON.stringify({ level: 'info', msg: 'model fetched and verified', bytes, out: opts.out }) + '\n');
    } catch (err) {
      process.stderr.write(`clinops fetch-model: ${(err as Error).message}\n`);
      process.exit(1);
    }
  });

program
  .command('serve')
  .description('serve an ONNX model over HTTP (Open Inference Protocol v2 and /v1 REST)')
  .option('--model <path>', 'ONNX file (env CLINOPS_MODEL_PATH)')
  .option('--name <name>', 'model name in URLs and responses (env CLINOPS_MODEL_NAME)')
  .option('--model-version <version>', 'model version (env CLINOPS_MODEL_VERSION)')
  .option('--sha256 <hex>', 'expected SHA-256 of the file; the server never becomes ready on a mismatch (env CLINOPS_MODEL_SHA256)')
  .option('--labels <list>', 'class names, JSON array or comma-separated, in output order (env CLINOPS_MODEL_LABELS)')
  .option('--preprocessing <json>', 'image preprocessing {width,height,channels,mean,std} (env CLINOPS_PREPROCESSING)')
  .option('--model-card <json>', 'model card fields (env CLINOPS_MODEL_CARD)')
  .option('--model-card-file <path>', 'JSON file with the model card, read again when it changes (env CLINOPS_MODEL_CARD_FILE)')
  .option('--host <host>', 'listen address (env CLINOPS_HOST; default 0.0.0.0)')
  .option('--port <port>', 'listen port, 0 for any (env CLINOPS_PORT; default 8080)')
  .option('--api-keys <file>', 'API key file, reloaded when it changes (env CLINOPS_API_KEYS_FILE; default: no authentication)')
  .option('--protect-health', 'require an API key for health, metrics and the monitoring window too (env CLINOPS_PROTECT_HEALTH=true)')
  .option('--body-limit <size>', 'largest request body (env CLINOPS_BODY_LIMIT; default 10mb)')
  .option('--timeout <ms>', 'per-request inference timeout, then 504 (env CLINOPS_TIMEOUT_MS; default 10000)')
  .option('--max-batch <n>', 'micro-batch up to n instances; 1 turns batching off (env CLINOPS_MAX_BATCH; default 8)')
  .option('--batch-delay <ms>', 'longest wait for a batch to fill (env CLINOPS_BATCH_DELAY_MS; default 2)')
  .option('--max-queue <n>', 'instances waiting before 503 + Retry-After (env CLINOPS_MAX_QUEUE; default 256)')
  .option('--workers <n>', 'worker threads, one session each (env CLINOPS_WORKERS; default cores/2)')
  .option('--intra-op-threads <n>', 'onnxruntime threads per session (env CLINOPS_INTRA_OP_THREADS; default cores/workers)')
  .option('--execution-provider <ep>', 'cpu or cuda (falls back to cpu, logged) (env CLINOPS_EXECUTION_PROVIDER; default cpu)')
  .option('--audit-file <path>', 'also append hash-chained audit records here (env CLINOPS_AUDIT_FILE)')
  .option('--window-size <n>', 'predictions kept for /v1/monitoring/window (env CLINOPS_WINDOW_SIZE; default 10000)')
  .option('--feedback-capacity <n>', 'predictions kept for feedback joins (env CLINOPS_FEEDBACK_CAPACITY; default 10000)')
  .option('--log-level <level>', 'debug, info, warn or error (env CLINOPS_LOG_LEVEL; default info)')
  .option('--drain-delay <ms>', 'after SIGTERM, keep serving this long while readiness fails, then drain (env CLINOPS_DRAIN_DELAY_MS; default 0)')
  .option('--drain-timeout <ms>', 'then wait at most this long for accepted requests before exiting anyway (env CLINOPS_DRAIN_TIMEOUT_MS; default 20000)')
  .option('--exit-on-load-failure', 'exit 3 when the model cannot be served, writing why to CLINOPS_TERMINATION_LOG (default /dev/termination-log), instead of staying live and never ready (env CLINOPS_EXIT_ON_LOAD_FAILURE=true)')
  .action(async (opts: ServerFlags & { modelVersion?: string }) => {
    const { loadServerConfig, ServerConfigError } = await import('../inference-server/config.js');
    const { startServer } = await import('../inference-server/main.js');
    let config;
    try {
      config = loadServerConfig({
        ...opts, version: opts.modelVersion, protectHealth: opts.protectHealth ? true : undefined,
        exitOnLoadFailure: opts.exitOnLoadFailure ? true : undefined,
      }, process.env);
    } catch (err) {
      if (err instanceof ServerConfigError) {
        process.stderr.write(`clinops serve: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    let server;
    try {
      server = await startServer(config);
    } catch (err) {
      process.stderr.write(`clinops serve: ${(err as Error).message}\n`);
      process.exit(1);
    }
    const stop = () => void server.shutdown().then(() => process.exit(0), () => process.exit(1));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    await server.loaded;
    if (config.exitOnLoadFailure && server.state.phase === 'failed') {
      const { writeFile } = await import('node:fs/promises');
      // Kubernetes shows this file's text as the container's termination message.
      // "Word: reason", the word stable for the operator to act on (DigestMismatch, ModelRejected, LoadFailed).
      const message = `${server.state.failure ?? 'LoadFailed'}: ${server.state.reason ?? 'the model could not be served'}`;
      await writeFile(config.terminationLog, message).catch(() => {});
      await server.shutdown().catch(() => {});
      process.exit(3);
    }
  });

const number = (name: string, min: number, max: number, integer = false) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new InvalidArgumentError(`${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
  }
  return n;
};

program
  .command('drift')
  .description('compare a current sample with a reference: KS D and p-value, PSI, verdict (exit 0 no drift, 1 drift, 2 error, 3 too few samples)')
  .requiredOption('--reference <file>', 'reference values: a JSON array of numbers or one number per line')
  .requiredOption('--current <file>', 'current values, same formats')
  .option('--bins <n>', 'PSI bins at the reference quantiles', number('--bins', 2, 100, true), 10)
  .option('--min-samples <n>', 'fewer current values than this give InsufficientData', number('--min-samples', 1, 1e9, true), 200)
  .option('--moderate <psi>', 'PSI from here is moderate drift', number('--moderate', 0, 100), 0.1)
  .option('--significant <psi>', 'PSI above this is significant drift', number('--significant', 0, 100), 0.2)
  .option('--p-value <p>', 'a KS p-value below this is moderate drift', number('--p-value', 0, 1), 0.05)
  .option('--json', 'print the result as JSON')
  .action(async (o: { reference: string; current: string; bins: number; minSamples: number; moderate: number; significant: number; pValue: number; json?: boolean }) => {
    const { driftReport, exitCodeOf, formatReport } = await import('./drift.js');
    try {
      if (!(o.moderate < o.significant)) throw new Error('--moderate must be less than --significant');
      const r = await driftReport(o);
      process.stdout.write((o.json ? JSON.stringify(r) : formatReport(r)) + '\n');
      process.exitCode = exitCodeOf(r.verdict);
    } catch (err) {
      process.stderr.write(`clinops drift: ${(err as Error).message}\n`);
      process.exitCode = 2;
    }
  });

program
  .command('reference')
  .description('build a reference file (top-class confidences) from a model\'s predictions on a holdout set')
  .requiredOption('--model <file>', 'the ONNX model')
  .requiredOption('--holdout <file>', 'a JSON array of instances, each one input without the batch dimension')
  .option('--out <file>', 'where to write the JSON array (default: stdout)')
  .action(async (o: { model: string; holdout: string; out?: string }) => {
    const { buildReference } = await import('./drift.js');
    try {
      const n = await buildReference(o.model, o.holdout, o.out);
      if (o.out) process.stderr.write(`clinops reference: ${n} confidences written to ${o.out}\n`);
    } catch (err) {
      process.stderr.write(`clinops reference: ${(err as Error).message}\n`);
      process.exitCode = 2;
    }
  });

const audit = program.command('audit').description('audit log tools');
audit
  .command('verify <file>')
  .description('check the hash chain of an audit file; exit 1 naming the first broken record')
  .action(async (file: string) => {
    const { verifyChain } = await import('../inference-server/audit/audit-log.js');
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      process.stderr.write(`clinops audit verify: cannot read ${file}: ${(err as Error).message}\n`);
      process.exit(2);
    }
    const r = verifyChain(text);
    if (r.ok) {
      process.stdout.write(`${file}: ${r.records} records, chain intact\n`);
    } else {
      process.stdout.write(`${file}: record ${r.brokenAt} ${r.reason}; the ${r.records} records before it are intact\n`);
      process.exit(1);
    }
  });

await program.parseAsync(process.argv);
