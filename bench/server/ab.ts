// The server against an earlier build of itself (make bench-ab BASE=<commit>), side by side: the same
// requests to this checkout's `clinops serve` and to the one built from BASE, taking turns on this
// machine (base, ours, base, ours: each measured twice, the better of each kept), and the ratios of
// ours to it — the CNN by PNG upload at c=1 (decoding and inference) and the tiny sepsis MLP by JSON at
// c=1 and c=32 (the server's own overhead). A ratio of throughput ≥ 0.95 is "no worse" within this
// machine's run-to-run noise.
//   node dist/bench/server/ab.js --base <root of a built checkout> [--requests 5000] [--seconds 10]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { repoRoot } from '../../hack/cluster/controlplane.js';
import { generateAll, mlpInputs } from '../../test/models/generate.js';
import { fmt, load, poster, type Stats, startOurs, stopProc, target } from './load.js';
import { resultsDir } from '../results-dir.js';

const { values } = parseArgs({ options: { base: { type: 'string' }, requests: { type: 'string', default: '5000' }, seconds: { type: 'string', default: '10' } } });
const base = values.base ?? repoRoot;
/** Each run: the CNN up to a tenth of the requests (each is ~20 ms), the MLP all of them, both within the seconds. */
const limits = { requests: Number(values.requests), ms: Number(values.seconds) * 1000 };
const SIZE = 224;
const PRE = { width: SIZE, height: SIZE, channels: 1, mean: [0.485], std: [0.229] };

interface Case {
  what: string;
  flags: string[];
  concurrency: number;
  requests: number;
  send: (url: string) => () => Promise<boolean>;
}

async function measure(c: Case, root: string): Promise<Stats> {
  const s = await startOurs(c.flags, root);
  try {
    return await load(c.concurrency, c.send(s.url), { ...limits, requests: c.requests });
  } finally {
    await stopProc(s.proc);
  }
}

const better = (a: Stats, b: Stats) => (a.errors === 0 && a.perSecond >= b.perSecond ? a : b.errors === 0 ? b : a);

async function main(): Promise<void> {
  const results = resultsDir();
  const models = generateAll(join(repoRoot, '.clinops', 'models'));
  const cnn = models['cnn-resnet18']!;
  const mlp = models.mlp!;
  const pixels = Buffer.from(Array.from({ length: SIZE * SIZE }, (_, i) => (i * 31 + (i >> 7)) % 256));
  const png = await sharp(pixels, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer();
  const rows = JSON.stringify({ instances: mlpInputs(3, 3) });
  const cnnFlags = ['--log-level', 'error', '--model', cnn.path, '--name', 'pneumonia-cxr', '--model-version', '1.0.0', '--sha256', cnn.sha256, '--labels', 'Normal,Pneumonia', '--preprocessing', JSON.stringify(PRE)];
  const mlpFlags = ['--log-level', 'error', '--model', mlp.path, '--name', 'sepsis', '--model-version', '1.0.0', '--sha256', mlp.sha256, '--labels', 'No sepsis,Sepsis'];
  const cases: Case[] = [
    { what: 'CNN, a PNG upload, c=1', flags: cnnFlags, concurrency: 1, requests: Math.ceil(limits.requests / 10), send: (u) => poster(`${u}/v1/models/pneumonia-cxr/predict`, png, { 'content-type': 'image/png' }) },
    { what: 'tiny MLP, JSON, c=1', flags: mlpFlags, concurrency: 1, requests: limits.requests, send: (u) => poster(`${u}/v1/models/sepsis/predict`, rows) },
    { what: 'tiny MLP, JSON, c=32', flags: mlpFlags, concurrency: 32, requests: limits.requests, send: (u) => poster(`${u}/v1/models/sepsis/predict`, rows) },
  ];
  console.log(`server against its base (${base === repoRoot ? 'itself: a smoke run' : base}); up to ${limits.requests} requests or ${limits.ms / 1000} s a run, each side run twice in turns; loopback\n`);
  console.log('                                   p50     p95     p99        throughput');
  const out: Record<string, { base: Stats; ours: Stats; throughputRatio: number; p50Ratio: number }> = {};
  const lines: string[] = [];
  for (const c of cases) {
    const b1 = await measure(c, base);
    const o1 = await measure(c, repoRoot);
    const b2 = await measure(c, base);
    const o2 = await measure(c, repoRoot);
    const [b, o] = [better(b1, b2), better(o1, o2)];
    console.log(`base, ${c.what.padEnd(28)}${fmt(b)}`);
    console.log(`ours, ${c.what.padEnd(28)}${fmt(o)}`);
    out[c.what] = { base: b, ours: o, throughputRatio: o.perSecond / b.perSecond, p50Ratio: o.p50 / b.p50 };
    lines.push(target(`${c.what}: throughput ours / base`, o.perSecond / b.perSecond, '≥', 0.95));
    if (o.errors > 0 || b.errors > 0) throw new Error(`${c.what}: ${o.errors} errors (ours), ${b.errors} (base): only successful answers count`);
  }
  console.log(`\nratios\n${lines.join('\n')}`);
  writeFileSync(join(results, 'server-ab.json'), JSON.stringify({ base, limits, cases: out }, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
