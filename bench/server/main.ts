// Server benchmark (make bench): one run, one model (the ResNet-18-cost CNN, 1×224×224), one machine,
// loopback only, every load bounded in requests and time.
//   raw        onnxruntime session.run in this process, batch 1 and batch 8
//   ours       `clinops serve`, unbatched and micro-batched, tensors over OIP (binary), concurrency 1/8/32
//   images     ours vs the seed-style FastAPI + uvicorn + onnxruntime server, the same PNG upload
// and prints the ratios the issue sets targets for.
//   node dist/bench/server/main.js [--requests 200] [--seconds 15]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { repoRoot } from '../../hack/cluster/controlplane.js';
import { fmt, load, pct, poster, type Stats, startFastapi, startOurs, stopProc, target } from './load.js';
import { generateAll } from '../../test/models/generate.js';
import { resultsDir } from '../results-dir.js';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '200' }, seconds: { type: 'string', default: '15' }, 'raw-only': { type: 'string' } },
});
const MAX_REQUESTS = Number(values.requests);
const MAX_MS = Number(values.seconds) * 1000;
const SIZE = 224;
const PRE = { width: SIZE, height: SIZE, channels: 1, mean: [0.485], std: [0.229] };
const results = resultsDir();

const limits = { requests: MAX_REQUESTS, ms: MAX_MS };
const modelFlags = (path: string, sha256: string) => ['--model', path, '--name', 'pneumonia-cxr', '--model-version', '1.0.0', '--sha256', sha256,
  '--labels', 'Normal,Pneumonia', '--preprocessing', JSON.stringify(PRE)];

async function main(): Promise<void> {
  const model = generateAll(join(repoRoot, '.clinops', 'models'))['cnn-resnet18']!;
  const pixels = Buffer.from(Array.from({ length: SIZE * SIZE }, (_, i) => (i * 31 + (i >> 7)) % 256));
  const png = await sharp(pixels, { raw: { width: SIZE, height: SIZE, channels: 1 } }).png().toBuffer();
  const tensor = Float32Array.from(pixels, (v) => (v / 255 - 0.485) / 0.229);
  const out: Record<string, unknown> = { model: 'cnn-resnet18 (1×224×224, ~2 GMAC)', requestsPerLevel: MAX_REQUESTS };
  console.log(`server benchmark — ${out.model}; up to ${MAX_REQUESTS} requests or ${MAX_MS / 1000} s per level; loopback\n`);
  console.log('                                   p50     p95     p99        throughput');

  // Raw onnxruntime, default session options, in a child process: onnxruntime's thread pool stays
  // alive (and spinning) in a process after a session is released, and would slow the client below.
  const rawJson = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--raw-only', model.path,
    '--requests', String(MAX_REQUESTS), '--seconds', String(MAX_MS / 1000)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const { raw1, raw8 } = JSON.parse(rawJson) as { raw1: Stats; raw8: Stats };
  const raw8PerSecond = raw8.perSecond * 8;
  console.log(`raw session.run, batch 1         ${fmt(raw1)}`);
  console.log(`raw session.run, batch 8         ${fmt({ ...raw8, perSecond: raw8PerSecond })} (images)`);
  out.raw = { batch1: raw1, batch8: { ...raw8, imagesPerSecond: raw8PerSecond } };

  // Ours, tensors over the OIP binary extension.
  const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 1, SIZE, SIZE], datatype: 'FP32', parameters: { binary_data_size: tensor.byteLength } }] }));
  const body = Buffer.concat([header, Buffer.from(tensor.buffer)]);
  const tensorSend = (url: string) => poster(`${url}/v2/models/pneumonia-cxr/infer`, body, { 'inference-header-content-length': String(header.length) });
  const ours: Record<string, Record<number, Stats>> = { unbatched: {}, batched: {} };
  let loopP99: { healthP99Ms: number; eventLoopLagP99Ms: number } | undefined;
  for (const mode of ['unbatched', 'batched'] as const) {
    const s = await startOurs([...modelFlags(model.path, model.sha256), ...(mode === 'unbatched' ? ['--max-batch', '1'] : ['--max-batch', '8', '--batch-delay', '2'])]);
    try {
      for (const c of [1, 8, 32]) {
        let probe: Promise<number[]> | undefined;
        let probing = false;
        if (mode === 'batched' && c === 32) {
          // How long /health/live takes while the server is saturated: the event loop's responsiveness.
          probing = true;
          probe = (async () => {
            const lat: number[] = [];
            while (probing) {
              const t = performance.now();
              await (await fetch(`${s.url}/health/live`)).arrayBuffer();
              lat.push(performance.now() - t);
              await new Promise((r) => setTimeout(r, 25));
            }
            return lat.sort((a, b) => a - b);
          })();
        }
        ours[mode]![c] = await load(c, tensorSend(s.url), limits);
        console.log(`ours, ${mode.padEnd(9)}, c=${String(c).padEnd(2)}        ${fmt(ours[mode]![c]!)}`);
        if (probe) {
          probing = false;
          const lat = await probe;
          const metrics = await (await fetch(`${s.url}/metrics`)).text();
          const lag = Number(/nodejs_eventloop_lag_p99_seconds\{[^}]*\} ([\d.e-]+)/.exec(metrics)?.[1] ?? NaN) * 1000;
          loopP99 = { healthP99Ms: pct(lat, 0.99), eventLoopLagP99Ms: lag };
          console.log(`  under that load: GET /health/live p99 ${loopP99.healthP99Ms.toFixed(1)} ms; server event-loop lag p99 ${lag.toFixed(1)} ms`);
        }
      }
    } finally {
      await stopProc(s.proc);
    }
  }
  out.ours = ours;
  out.eventLoop = loopP99;

  // The same PNG upload: ours (micro-batched) against the seed-style FastAPI server.
  const images: Record<string, Record<number, Stats>> = { ours: {}, fastapi: {} };
  const s = await startOurs([...modelFlags(model.path, model.sha256), '--max-batch', '8', '--batch-delay', '2']);
  try {
    const send = poster(`${s.url}/v1/models/pneumonia-cxr/predict`, png, { 'content-type': 'image/png' });
    for (const c of [1, 8, 32]) {
      images.ours![c] = await load(c, send, limits);
      console.log(`ours, PNG upload, c=${String(c).padEnd(2)}         ${fmt(images.ours![c]!)}`);
    }
  } finally {
    await stopProc(s.proc);
  }
  const api = await startFastapi('fastapi_server', model.path);
  try {
    // The same bytes as a browser's form upload, built once: the client costs the same for both servers.
    const boundary = 'clinops-bench-boundary';
    const form = Buffer.concat([
      Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="cxr.png"\r\ncontent-type: image/png\r\n\r\n`),
      png, Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const send = poster(`${api.url}/predict`, form, { 'content-type': `multipart/form-data; boundary=${boundary}` });
    for (const c of [1, 8, 32]) {
      images.fastapi![c] = await load(c, send, limits);
      console.log(`FastAPI baseline, c=${String(c).padEnd(2)}         ${fmt(images.fastapi![c]!)}`);
    }
  } finally {
    await stopProc(api.proc);
  }
  out.images = images;

  const b = ours.batched!;
  const u = ours.unbatched!;
  const best = (m: Record<number, Stats>) => Math.max(...Object.values(m).map((x) => x.perSecond));
  const ratios = {
    p50VsRawAtC1: b[1]!.p50 / raw1.p50,
    throughputVsRawBatched: best(b) / raw8PerSecond,
    batchedVsUnbatchedP50AtC1: b[1]!.p50 / u[1]!.p50,
    batchedVsUnbatched: b[32]!.perSecond / u[32]!.perSecond,
    rawBatchGain: raw8PerSecond / raw1.perSecond,
    throughputVsFastapi: images.ours![32]!.perSecond / images.fastapi![32]!.perSecond,
    p99VsFastapi: images.ours![32]!.p99 / images.fastapi![32]!.p99,
    eventLoopP99Ms: loopP99?.eventLoopLagP99Ms ?? NaN,
  };
  out.ratios = ratios;
  writeFileSync(join(results, 'server.json'), JSON.stringify(out, null, 2) + '\n');
  // Micro-batching can gain only where onnxruntime itself runs a batch faster than its rows one by one.
  const batchingGains = ratios.rawBatchGain >= 1.3;
  console.log(`
ratios                                            value   target
${target('server p50 / raw p50, c=1 (default batching)', ratios.p50VsRawAtC1, '≤', 1.1)}
${target('server throughput / raw batch-8 throughput', ratios.throughputVsRawBatched, '≥', 0.95)}
${target('batched / unbatched p50, c=1 (no added delay)', ratios.batchedVsUnbatchedP50AtC1, '≤', 1.02)}
${batchingGains ? target('batched / unbatched throughput, c=32', ratios.batchedVsUnbatched, '≥', 1.3)
    : `  batched / unbatched throughput, c=32          ${ratios.batchedVsUnbatched.toFixed(2).padStart(8)}   (≥ 1.3 applies only where raw batching gains ≥ 1.3)`}
  raw batch-8 / batch-1 throughput (what the hardware offers) ${ratios.rawBatchGain.toFixed(2)}
${target('ours / FastAPI throughput, PNG, c=32', ratios.throughputVsFastapi, '≥', 2)}
${target('ours / FastAPI p99, PNG, c=32', ratios.p99VsFastapi, '≤', 0.5)}
${target('event-loop lag p99 under load (ms)', ratios.eventLoopP99Ms, '≤', 20)}
(results in ${results}/server.json)`);
}

/** The raw measurement, run as its own process by main(). */
async function rawOnly(modelPath: string): Promise<void> {
  const session = await ort.InferenceSession.create(modelPath);
  const image = new Float32Array(SIZE * SIZE).fill(0.25);
  const runBatch = (n: number) => {
    const data = new Float32Array(n * image.length);
    for (let i = 0; i < n; i++) data.set(image, i * image.length);
    return () => session.run({ input: new ort.Tensor('float32', data, [n, 1, SIZE, SIZE]) }).then(() => true);
  };
  const raw1 = await load(1, runBatch(1), { requests: Math.min(MAX_REQUESTS, 150), ms: MAX_MS });
  const raw8 = await load(1, runBatch(8), { requests: Math.max(10, Math.floor(Math.min(MAX_REQUESTS, 150) / 8)), ms: MAX_MS });
  process.stdout.write(JSON.stringify({ raw1, raw8 }));
}

(values['raw-only'] ? rawOnly(values['raw-only']) : main()).catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
