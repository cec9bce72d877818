// What the server benchmarks share: a closed-loop load bounded in requests and time, percentiles,
// starting and stopping `clinops serve`, and the line that prints a target with met or MISSED — or
// INVALID once any answer of this run failed: only successful answers count toward throughput and
// latency, and a ratio over a run with failures is not a figure.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import http from 'node:http';
import { join } from 'node:path';
import { freePort, repoRoot } from '../../hack/cluster/controlplane.js';
import { waitFor } from '../../hack/cluster/wait.js';

export interface Stats {
  /** Successful answers (the only ones timed and counted). */
  requests: number;
  errors: number;
  p50: number;
  p95: number;
  p99: number;
  perSecond: number;
}

export function pct(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Closed-loop load: `concurrency` clients, each sending its next request when the last returns. */
export async function load(concurrency: number, send: () => Promise<boolean>, limits: { requests: number; ms: number }): Promise<Stats> {
  for (let i = 0; i < Math.max(concurrency, 20); i++) await send(); // warm-up: connections, JIT, sessions
  const lat: number[] = [];
  let errors = 0;
  let issued = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (issued < limits.requests && performance.now() - t0 < limits.ms) {
      issued += 1;
      const s = performance.now();
      const ok = await send().catch(() => false);
      if (ok) lat.push(performance.now() - s);
      else errors += 1;
    }
  }));
  noteFailures(errors);
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { requests: lat.length, errors, p50: pct(lat, 0.5), p95: pct(lat, 0.95), p99: pct(lat, 0.99), perSecond: lat.length / seconds };
}

export async function waitHttp(url: string, proc: ChildProcess, what: string): Promise<void> {
  await waitFor(`${what} to answer`, 120_000, async () => ((await fetch(url)).ok ? true : undefined), () => {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}`);
  });
}

export async function stopProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await exited;
}

/** `clinops serve` (of this checkout, or of the built checkout at `root`) on a free loopback port, with the given flags; resolves once it is ready. */
export async function startOurs(flags: string[], root = repoRoot): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const cli = join(root, 'dist', 'cli', 'main.js');
  // Servers from before closed-by-default have no --allow-unauthenticated (and need none).
  const open = flags.includes('--api-keys') || !execFileSync(process.execPath, [cli, 'serve', '--help'], { encoding: 'utf8' }).includes('--allow-unauthenticated') ? [] : ['--allow-unauthenticated'];
  const proc = spawn(process.execPath, [cli, 'serve', '--host', '127.0.0.1', '--port', String(port),
    '--log-level', 'warn', '--max-queue', '1024', ...open, ...flags], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/health/ready`, proc, 'clinops serve');
  return { url, proc };
}

/** A seed-style FastAPI baseline (bench/server/APP.py) under uvicorn on a free loopback port, once it answers /health. */
export async function startFastapi(app: string, modelPath: string): Promise<{ url: string; proc: ChildProcess }> {
  const python = execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh'), 'bench'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const port = await freePort();
  const proc = spawn(python, ['-m', 'uvicorn', `${app}:app`, '--app-dir', join(repoRoot, 'bench', 'server'), '--host', '127.0.0.1',
    '--port', String(port), '--log-level', 'warning'], { env: { ...process.env, MODEL_PATH: modelPath }, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(`${url}/health`, proc, 'FastAPI baseline');
  return { url, proc };
}

export const fmt = (s: Stats) =>
  `${s.p50.toFixed(2).padStart(7)} ${s.p95.toFixed(2).padStart(7)} ${s.p99.toFixed(2).padStart(7)} ms ${s.perSecond.toFixed(1).padStart(7)}/s${s.errors ? `  (${s.errors} errors)` : ''}`;

/** Failed answers in this benchmark process so far: any makes every ratio printed after it INVALID. */
let failures = 0;

/** Count failed answers a benchmark saw outside `load` (lost jobs, undelivered results). */
export function noteFailures(n: number): void {
  failures += n;
}

/** One line of a ratio table: what, the measured value, the target, and whether it was met (INVALID after failures). */
export function target(what: string, value: number, op: '≤' | '≥', bound: number): string {
  const met = op === '≤' ? value <= bound : value >= bound;
  const verdict = failures > 0 ? `INVALID (${failures} failed answers in this run)` : met ? 'met' : 'MISSED';
  return `  ${what.padEnd(44)} ${value.toFixed(2).padStart(8)}   ${op} ${String(bound).padEnd(5)} ${verdict}`;
}

/**
 * A request sender over node:http with keep-alive: lighter than fetch (undici), whose own cost per
 * request is of the order of the tiny model's whole answer; both servers are measured with it.
 */
export function poster(url: string, body: Buffer | string, headers: Record<string, string> = { 'content-type': 'application/json' }): () => Promise<boolean> {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const len = String(Buffer.byteLength(body));
  return () => new Promise<boolean>((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { ...headers, 'content-length': len } }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode === 200));
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end(body);
  });
}
