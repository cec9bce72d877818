// PACS benchmark (make bench): studies through a real PACS and back — Debian's Orthanc on loopback,
// dcmtk's storescu as the modality, the server taking them by STOW-RS and storing each SR back in
// Orthanc. Throughput: N chest X-ray studies (pydicom-data's CR, 7.2 MB, copied with new UIDs) sent in
// one association; the clock stops when the last SR is stored (only delivered SRs count). Latency: one
// study at a time, storescu → its SR listed by Orthanc (QIDO-RS, polled every 10 ms), beside a direct
// POST /predict of the same file to the same server: the PACS path's added latency, side by side.
//   node dist/bench/server/pacs.js [--studies 30] [--single 8]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../../hack/cluster/controlplane.js';
import { startPacs, storescu } from '../../hack/cluster/pacs.js';
import { cnnGraph, cnnWeights, SMALL_CNN, SMALL_CNN_SIZE, writeModel } from '../../test/models/generate.js';
import { noteFailures, pct, startOurs, stopProc, target } from './load.js';
import { resultsDir } from '../results-dir.js';

const { values } = parseArgs({ options: { studies: { type: 'string', default: '30' }, single: { type: 'string', default: '8' } } });
const studies = Number(values.studies);
const single = Number(values.single);

interface Counts { received: number; inferred: number; delivered: number; failed: number; pending: number }

async function main(): Promise<void> {
  const results = resultsDir();
  const dir = mkdtempSync(join(tmpdir(), 'clinops-bench-pacs-'));
  const python = execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh'), 'test'], { encoding: 'utf8' }).trim();
  execFileSync(python, [join(repoRoot, 'hack', 'python', 'pacs_fixtures.py'), join(dir, 'studies'), String(studies + single)]);
  const file = (i: number) => join(dir, 'studies', `copy-${i}.dcm`);
  const model = writeModel(join(repoRoot, '.clinops', 'models'), 'cnn-small.onnx', cnnGraph(cnnWeights(SMALL_CNN_SIZE, SMALL_CNN), 'cnn-small'));
  const pacs = await startPacs({ dir: join(dir, 'orthanc'), forwardTo: ['model'] });
  const creds = join(dir, 'destination');
  mkdirSync(creds);
  writeFileSync(join(creds, 'username'), pacs.user.username);
  writeFileSync(join(creds, 'password'), pacs.user.password);
  const s = await startOurs(['--model', model.path, '--name', 'pneumonia-cxr', '--model-version', '1.0.0', '--sha256', model.sha256, '--labels', 'Normal,Pneumonia',
    '--preprocessing', JSON.stringify({ width: SMALL_CNN_SIZE, height: SMALL_CNN_SIZE, channels: 1 }), '--allow-unauthenticated', '--body-limit', '16mb',
    '--dicom-accept', JSON.stringify({ modalities: ['CR', 'DX'], bodyParts: ['CHEST'] }), '--dicom-destination', pacs.dicomweb, '--dicom-destination-credentials', creds]);
  await pacs.defineServer('model', `${s.url}/dicomweb`);
  const counts = async () => (await (await fetch(`${s.url}/v1/monitoring/dicom`)).json()) as Counts;
  const waitFor = async (done: (c: Counts) => boolean, limitMs: number) => {
    const end = performance.now() + limitMs;
    for (;;) {
      const c = await counts();
      if (done(c) || performance.now() > end) return c;
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  console.log(`PACS benchmark — Orthanc (loopback) → STOW-RS → the small CNN → SR → STOW-RS → Orthanc; chest X-ray studies of 7.2 MB\n`);
  try {
    // Latency, one study at a time: the PACS path, then a direct /predict of the same file.
    const viaPacs: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < single; i++) {
      const before = (await counts()).delivered;
      const t = performance.now();
      await storescu(pacs, [file(studies + i)]);
      const c = await waitFor((x) => x.delivered > before || x.failed > 0, 30_000);
      if (c.delivered > before) viaPacs.push(performance.now() - t);
      const body = readFileSync(file(studies + i));
      const d = performance.now();
      const res = await fetch(`${s.url}/v1/models/pneumonia-cxr/predict`, { method: 'POST', headers: { 'content-type': 'application/dicom' }, body });
      await res.arrayBuffer();
      if (res.status === 200) direct.push(performance.now() - d);
    }
    viaPacs.sort((a, b) => a - b);
    direct.sort((a, b) => a - b);
    // Throughput: every study in one association.
    const start = await counts();
    const t0 = performance.now();
    await storescu(pacs, Array.from({ length: studies }, (_, i) => file(i)));
    const sent = performance.now() - t0;
    const end = await waitFor((x) => x.delivered - start.delivered >= studies || x.failed > start.failed, 120_000);
    const seconds = (performance.now() - t0) / 1000;
    const delivered = end.delivered - start.delivered;
    const errors = end.failed - start.failed + (single - viaPacs.length) + (single - direct.length);
    const r = {
      throughput: { requests: delivered, errors, studies, seconds, perSecond: delivered / seconds, storescuMs: sent },
      latency: { requests: viaPacs.length, errors: single - viaPacs.length, pacsP50: pct(viaPacs, 0.5), pacsMax: viaPacs.at(-1) ?? NaN, directP50: pct(direct, 0.5), directMax: direct.at(-1) ?? NaN },
    };
    writeFileSync(join(results, 'pacs.json'), JSON.stringify(r, null, 2) + '\n');
    const valid = errors === 0 && delivered === studies;
    noteFailures(errors + (studies - delivered));
    if (!valid) {
      // What the PACS says of its forwarding jobs: the reason an instance never reached the model.
      const jobs = (await pacs.get('/jobs?expand')) as Array<{ Type: string; State: string; ErrorDescription?: string; ErrorDetails?: string }>;
      const failed = jobs.filter((j) => j.State !== 'Success');
      console.log(`Orthanc's jobs: ${jobs.length}, not successful: ${failed.length}${failed.slice(0, 3).map((j) => `\n  ${j.Type} ${j.State}: ${j.ErrorDescription ?? ''} ${j.ErrorDetails ?? ''}`).join('')}`);
      console.log(`the server's counts: ${JSON.stringify(end)}`);
    }
    console.log(`throughput   ${studies} studies in one association: ${delivered} SRs stored in ${seconds.toFixed(1)} s = ${r.throughput.perSecond.toFixed(2)} studies/s (storescu itself took ${(sent / 1000).toFixed(1)} s)`);
    console.log(`latency      storescu → SR stored in the study: p50 ${r.latency.pacsP50.toFixed(0)} ms, max ${r.latency.pacsMax.toFixed(0)} ms (${single} studies, one at a time)`);
    console.log(`             POST /predict of the same file:    p50 ${r.latency.directP50.toFixed(0)} ms, max ${r.latency.directMax.toFixed(0)} ms`);
    console.log(`             added by the PACS path (p50):      ${(r.latency.pacsP50 - r.latency.directP50).toFixed(0)} ms — the C-STORE into Orthanc, its STOW-RS job, the job queue, the SR's STOW-RS back`);
    console.log(`\n${valid ? '' : `INVALID: ${errors} errors, ${delivered} of ${studies} delivered\n`}ratios                                            value   target
${target('studies per second through the PACS', r.throughput.perSecond, '≥', 1)}
${target('errors (failed instances, undelivered SRs)', errors, '≤', 0)}
(results in ${results}/pacs.json)`);
  } finally {
    await stopProc(s.proc);
    await pacs.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
