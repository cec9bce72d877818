// DICOM benchmark (make bench): decoding a study into the model's values, per megapixel — ours
// (dicom-parser, our RLE decoder, rescale and window in JS) against pydicom + numpy doing the same
// (bench/server/dicom_decode.py), side by side on the same files and cores: pydicom-data's chest X-ray
// (1841×1955, 16 bits), explicit VR, deflated and RLE Lossless (bench/server/dicom_fixtures.py).
//   node dist/bench/server/dicom.js [--runs 20]
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeDicom } from '../../inference-server/preprocess/dicom.js';
import { DecodeBudget } from '../../inference-server/preprocess/decode-budget.js';
import { DEFAULT_DECODE_BUDGET } from '../../inference-server/predictor.js';
import { repoRoot } from '../../hack/cluster/controlplane.js';
import { target } from './load.js';
import { resultsDir } from '../results-dir.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' } } });
const runs = Number(values.runs);

function main(): void {
  const results = resultsDir();
  const dir = join(repoRoot, '.clinops', 'bench-dicom');
  const python = execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh'), 'test'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const pixels = Number(execFileSync(python, [join(repoRoot, 'bench', 'server', 'dicom_fixtures.py'), dir], { encoding: 'utf8' }).trim());
  const mp = pixels / 1e6;
  const files = ['xray-explicit.dcm', 'xray-deflated.dcm', 'xray-rle.dcm'].map((f) => join(dir, f));
  console.log(`DICOM benchmark — a ${mp.toFixed(2)} MP chest X-ray (16 bits), decoded to windowed values; ${runs} runs each\n`);
  const baseline = JSON.parse(execFileSync(python, [join(repoRoot, 'bench', 'server', 'dicom_decode.py'), String(runs), ...files], { encoding: 'utf8' })) as Record<string, number>;
  const rows: Record<string, { oursMs: number; pydicomMs: number; oursMsPerMp: number; ratio: number }> = {};
  console.log('                        ours ms/MP   pydicom+numpy ms/MP   ours / pydicom');
  for (const f of files) {
    const bytes = readFileSync(f);
    const budget = () => new DecodeBudget(DEFAULT_DECODE_BUDGET, 1024);
    decodeDicom(bytes, {}, 'body', budget());
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) decodeDicom(bytes, {}, 'body', budget());
    const oursMs = (performance.now() - t0) / runs;
    const name = f.split('/').pop()!;
    rows[name] = { oursMs, pydicomMs: baseline[f]!, oursMsPerMp: oursMs / mp, ratio: oursMs / baseline[f]! };
    console.log(`${name.padEnd(22)} ${(oursMs / mp).toFixed(1).padStart(10)} ${(baseline[f]! / mp).toFixed(1).padStart(20)} ${(oursMs / baseline[f]!).toFixed(2).padStart(16)}`);
  }
  writeFileSync(join(results, 'dicom.json'), JSON.stringify({ megapixels: mp, runs, rows }, null, 2) + '\n');
  console.log(`
ratios                                            value   target
${target('ours / pydicom, explicit VR', rows['xray-explicit.dcm']!.ratio, '≤', 2)}
${target('ours / pydicom, RLE Lossless', rows['xray-rle.dcm']!.ratio, '≤', 2)}
(results in ${results}/dicom.json)`);
}

main();
