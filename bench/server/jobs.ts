// Jobs benchmark (make bench): asynchronous jobs against synchronous predictions on the same server —
// the ResNet-18-cost CNN is too slow for a useful count here, so the small CNN (1×64×64) with one
// PNG a request. Synchronous: c=8 clients posting to /predict. Jobs: the same 8 clients submit to
// /jobs and poll each job until done (every 20 ms). Then both at once: 4 clients waiting at a screen
// (/predict) beside 4 submitting jobs — the synchronous ones' p50 must not suffer (jobs run only while
// no synchronous request waits) and no job may be lost.
//   node dist/bench/server/jobs.js [--seconds 10]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { repoRoot } from '../../hack/cluster/controlplane.js';
import { cnnGraph, cnnWeights, writeModel } from '../../test/models/generate.js';
import { noteFailures, pct, startOurs, stopProc, target } from './load.js';
import { resultsDir } from '../results-dir.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' } } });
const ms = Number(values.seconds) * 1000;

interface Run { done: number; lost: number; refused: number; latencies: number[]; perSecond: number }

type Outcome = 'done' | 'refused' | 'lost';

/** `clients` loops of `one` until `until`: done (timed), refused (503: full or busy) or lost (accepted, never done). */
async function drive(clients: number, until: number, one: () => Promise<Outcome>): Promise<Run> {
  const latencies: number[] = [];
  let lost = 0;
  let refused = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < until) {
      const s = performance.now();
      const o = await one();
      if (o === 'done') latencies.push(performance.now() - s);
      else if (o === 'refused') {
        refused++;
        await new Promise((r) => setTimeout(r, 100));
      } else lost++;
    }
  }));
  latencies.sort((a, b) => a - b);
  return { done: latencies.length, lost, refused, latencies, perSecond: latencies.length / ((performance.now() - t0) / 1000) };
}

async function main(): Promise<void> {
  const results = resultsDir();
  const model = writeModel(join(repoRoot, '.clinops', 'models'), 'cnn-64.onnx', cnnGraph(cnnWeights(64, [{ out: 8, stride: 2 }, { out: 16, stride: 2 }]), 'cnn-64'));
  const png = await sharp(Buffer.from(Array.from({ length: 64 * 64 }, (_, i) => (i * 13) % 256)), { raw: { width: 64, height: 64, channels: 1 } }).png().toBuffer();
  const s = await startOurs(['--model', model.path, '--name', 'cxr', '--model-version', '1.0.0', '--sha256', model.sha256, '--labels', 'normal,pneumonia',
    '--preprocessing', JSON.stringify({ width: 64, height: 64, channels: 1 }), '--job-capacity', '100000', '--job-ttl', '5000']);
  const headers = { 'content-type': 'image/png' };
  const sync = async (): Promise<Outcome> => {
    const status = (await fetch(`${s.url}/v1/models/cxr/predict`, { method: 'POST', headers, body: png })).status;
    return status === 200 ? 'done' : status === 503 ? 'refused' : 'lost';
  };
  const job = async (): Promise<Outcome> => {
    const res = await fetch(`${s.url}/v1/models/cxr/jobs`, { method: 'POST', headers, body: png });
    if (res.status === 503) return 'refused';
    if (res.status !== 202) return 'lost';
    const { location } = (await res.json()) as { location: string };
    for (;;) {
      await new Promise((r) => setTimeout(r, 20));
      const got = await fetch(`${s.url}${location}`);
      if (got.status !== 200) return 'lost';
      const state = ((await got.json()) as { state: string }).state;
      if (state === 'done') return 'done';
      if (state === 'failed') return 'lost';
    }
  };
  console.log(`jobs benchmark — a small CNN (1×64×64), one PNG a request, ${ms / 1000} s a phase; loopback\n`);
  try {
    for (let i = 0; i < 20; i++) await sync();
    const syncAlone = await drive(8, performance.now() + ms, sync);
    const jobsAlone = await drive(8, performance.now() + ms, job);
    const end = performance.now() + ms;
    const [syncBeside, jobsBeside] = await Promise.all([drive(4, end, sync), drive(4, end, job)]);
    const line = (what: string, r: Run) => `${what.padEnd(34)} ${r.perSecond.toFixed(1).padStart(7)}/s   p50 ${pct(r.latencies, 0.5).toFixed(1).padStart(6)} ms   p99 ${pct(r.latencies, 0.99).toFixed(1).padStart(6)} ms   ${r.lost} lost, ${r.refused} refused`;
    console.log(line('synchronous, c=8', syncAlone));
    console.log(line('jobs (submit + poll), c=8', jobsAlone));
    console.log(line('synchronous beside jobs, c=4', syncBeside));
    console.log(line('jobs beside synchronous, c=4', jobsBeside));
    noteFailures(jobsAlone.lost + jobsBeside.lost + syncAlone.lost + syncBeside.lost);
    const ratios = {
      jobsVsSyncThroughput: jobsAlone.perSecond / syncAlone.perSecond,
      syncP50BesideJobsVsAlone: pct(syncBeside.latencies, 0.5) / pct(syncAlone.latencies, 0.5),
      lost: jobsAlone.lost + jobsBeside.lost + syncAlone.lost + syncBeside.lost,
      jobsDoneBeside: jobsBeside.done,
    };
    writeFileSync(join(results, 'jobs.json'), JSON.stringify({ syncAlone: { ...syncAlone, latencies: undefined }, jobsAlone: { ...jobsAlone, latencies: undefined },
      syncBeside: { ...syncBeside, latencies: undefined }, jobsBeside: { ...jobsBeside, latencies: undefined }, ratios }, null, 2) + '\n');
    console.log(`
ratios                                            value   target
${target('jobs / synchronous throughput, c=8 (one job at a time)', ratios.jobsVsSyncThroughput, '≥', 0.4)}
${target('synchronous p50 beside jobs / alone', ratios.syncP50BesideJobsVsAlone, '≤', 1.5)}
${target('requests or jobs lost', ratios.lost, '≤', 0)}
${target('jobs done beside synchronous clients', ratios.jobsDoneBeside, '≥', 1)}
(jobs done while synchronous clients waited: ${jobsBeside.done}${jobsBeside.done > 0 ? ': not starved' : ': STARVED'})
(results in ${results}/jobs.json)`);
  } finally {
    await stopProc(s.proc);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
