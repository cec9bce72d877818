// Starting a real `clinops serve` process on loopback for the server's tests, with models generated
// by test/models, and a small HTTP client.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAll, type GeneratedModel } from '../../models/generate.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
let models: Record<string, GeneratedModel> | undefined;

export function testModels(): Record<string, GeneratedModel> {
  models ??= generateAll(mkdtempSync(join(tmpdir(), 'clinops-models-')), false);
  return models;
}

export interface Served {
  url: string;
  /** Where /v1/monitoring/* is served (url, unless --monitoring-port was given). */
  monitoringUrl: string;
  proc: ChildProcess;
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface ServeOptions {
  model?: 'mlp' | 'cnn-small' | 'logistic';
  /** A model file of the test's own instead of a generated one. */
  file?: { path: string; sha256: string; name: string; labels: string[] };
  sha256?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Wait for /health/ready (default); false waits only for the port. */
  ready?: boolean;
}

export async function serve(opts: ServeOptions = {}): Promise<Served> {
  const m = opts.file ?? testModels()[opts.model ?? 'mlp']!;
  const labels = opts.file ? JSON.stringify(opts.file.labels) : opts.model === 'cnn-small' ? '["Normal","Pneumonia"]' : '["No sepsis","Sepsis"]';
  const name = opts.file?.name ?? (opts.model === 'cnn-small' ? 'pneumonia-cxr' : 'sepsis');
  // Thousands of labels (an identity model's) go by the environment, comma-separated: on this Node a
  // process with an argument that long (~25 KB) segfaults when it starts its worker thread, and one
  // environment string may not pass 128 KiB.
  const long = labels.length > 8192 && opts.file !== undefined;
  const proc = spawn(process.execPath, [join(root, 'dist', 'cli', 'main.js'), 'serve',
    '--model', m.path, '--name', name, '--model-version', '1.0.0',
    '--sha256', opts.sha256 ?? m.sha256, ...(long ? [] : ['--labels', labels]), '--port', '0', '--host', '127.0.0.1',
    // Closed by default: a test that gives no keys says it serves anyone.
    ...(opts.args?.includes('--api-keys') || opts.env?.CLINOPS_API_KEYS_FILE ? [] : ['--allow-unauthenticated']), ...(opts.args ?? [])],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...(long ? { CLINOPS_MODEL_LABELS: opts.file!.labels.join(',') } : {}), ...opts.env } });
  const logs: string[] = [];
  let buffered = '';
  const onData = (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    logs.push(...lines);
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  // 'close' comes after the output is read to its end, so a process that listened and then exited at
  // once (a model refused at start-up) is still seen to have listened.
  const exited = new Promise<number | null>((r) => proc.once('close', (code) => r(code)));
  const listening = () => logs.find((l) => l.includes('"msg":"listening"'));
  const [port, monitoringPort] = await new Promise<[number, number]>((res, rej) => {
    const found = (line: string) => {
      const l = JSON.parse(line) as { port: number; monitoringPort: number };
      res([l.port, l.monitoringPort]);
    };
    const timer = setInterval(() => {
      const line = listening();
      if (line) {
        clearInterval(timer);
        found(line);
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      const line = listening();
      if (line) found(line);
      else rej(new Error(`clinops serve exited (${code}) before listening:\n${logs.join('\n')}`));
    });
  });
  const url = `http://127.0.0.1:${port}`;
  if (opts.ready !== false) {
    const deadline = Date.now() + 20_000;
    while ((await fetch(`${url}/health/ready`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`server not ready:\n${logs.join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url, monitoringUrl: `http://127.0.0.1:${monitoringPort}`, proc, logs,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** The body as JSON, or as text when it is not JSON (metrics, say). */
async function readBody(res: Response): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await readBody(res), headers: res.headers };
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(url, { headers });
  return { status: res.status, json: await readBody(res) };
}
