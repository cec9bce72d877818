// Tabular benchmark (make bench): the sepsis-class MLP (8 features → 2 classes), 3 rows of JSON per
// request over loopback, `clinops serve` against the seed-style FastAPI + uvicorn + onnxruntime server
// (bench/server/fastapi_tabular.py), one after the other on the same machine, in one run. This is the
// case a bedside alert lives in: a tiny model, where every millisecond is the server's own overhead.
//   node dist/bench/server/tabular.js [--requests 3000] [--seconds 15]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../hack/cluster/controlplane.js';
import { mlpInputs, mlpWeights, mlpGraph, writeModel } from '../../test/models/generate.js';
import { fmt, load, poster, type Stats, startFastapi, startOurs, stopProc, target } from './load.js';
import { resultsDir } from '../results-dir.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '3000' }, seconds: { type: 'string', default: '15' } } });
const limits = { requests: Number(values.requests), ms: Number(values.seconds) * 1000 };
const LEVELS = [1, 32];

async function main(): Promise<void> {
  const results = resultsDir();
  const model = writeModel(join(repoRoot, '.clinops', 'models'), 'mlp.onnx', mlpGraph(mlpWeights()));
  const body = JSON.stringify({ instances: mlpInputs(5, 3) });
  console.log(`tabular benchmark — sepsis MLP, 3 rows × 8 features of JSON per request; up to ${limits.requests} requests or ${limits.ms / 1000} s per level; loopback\n`);
  console.log('                                   p50     p95     p99        throughput');

  const ours: Record<number, Stats> = {};
  const s = await startOurs(['--model', model.path, '--name', 'sepsis-early-warning', '--model-version', '1.0.0', '--sha256', model.sha256,
    '--labels', 'no_sepsis,sepsis']);
  try {
    for (const c of LEVELS) {
      ours[c] = await load(c, poster(`${s.url}/v1/models/sepsis-early-warning/predict`, body), limits);
      console.log(`ours, c=${String(c).padEnd(2)}                       ${fmt(ours[c]!)}`);
    }
  } finally {
    await stopProc(s.proc);
  }

  const fastapi: Record<number, Stats> = {};
  const api = await startFastapi('fastapi_tabular', model.path);
  try {
    for (const c of LEVELS) {
      fastapi[c] = await load(c, poster(`${api.url}/predict`, body), limits);
      console.log(`FastAPI baseline, c=${String(c).padEnd(2)}           ${fmt(fastapi[c]!)}`);
    }
  } finally {
    await stopProc(api.proc);
  }

  const ratios = {
    p50VsFastapiAtC1: ours[1]!.p50 / fastapi[1]!.p50,
    throughputVsFastapiAtC32: ours[32]!.perSecond / fastapi[32]!.perSecond,
    p99VsFastapiAtC32: ours[32]!.p99 / fastapi[32]!.p99,
  };
  writeFileSync(join(results, 'tabular.json'), JSON.stringify({ model: 'sepsis MLP (8→16→2)', ours, fastapi, ratios }, null, 2) + '\n');
  console.log(`
ratios                                            value   target
${target('ours / FastAPI p50, c=1', ratios.p50VsFastapiAtC1, '≤', 0.5)}
${target('ours / FastAPI throughput, c=32', ratios.throughputVsFastapiAtC32, '≥', 3)}
${target('ours / FastAPI p99, c=32', ratios.p99VsFastapiAtC32, '≤', 0.5)}
(results in ${results}/tabular.json)`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
