// Statistics benchmark (make bench): KS and PSI at 2·10⁵ and 2·10⁶ values per side, the time ratio
// between the two sizes (10× the data; n log n allows ≤ 12×), and scipy.stats.ks_2samp's time on the
// same data in the same run.
//   node dist/bench/statistics/main.js [--sizes 200000,2000000]
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ks2samp } from '../../statistics/ks-2samp.js';
import { psi } from '../../statistics/psi.js';
import { repoRoot } from '../../hack/cluster/controlplane.js';
import { lcgUniform } from '../../test/models/generate.js';
import { resultsDir } from '../results-dir.js';

/** Best of `runs` timings, in seconds. */
function time(fn: () => unknown, runs = 3): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    best = Math.min(best, (performance.now() - t) / 1000);
  }
  return best;
}

const results = resultsDir();
const python = execFileSync('bash', [join(repoRoot, 'hack', 'python-env.sh'), 'test'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
// The two sizes per side (the second 10× the first); a smoke run takes smaller ones.
const SIZES = parseArgs({ options: { sizes: { type: 'string', default: '200000,2000000' } } }).values.sizes!.split(',').map(Number);
const rows: Array<Record<string, number>> = [];
console.log('statistics benchmark — two uniform samples per size, the second slightly shifted\n');
console.log('  per side     KS (ours)    PSI (ours)   ks_2samp (scipy)   p (ours / scipy)');
for (const n of SIZES) {
  const a = lcgUniform(11, n);
  const b = lcgUniform(12, n, 0.999, 0.0007);
  ks2samp(a.subarray(0, 1000), b.subarray(0, 1000)); // warm-up
  let ks = ks2samp(a, b);
  const ksSeconds = time(() => (ks = ks2samp(a, b)));
  const psiSeconds = time(() => psi(a, b, 10));
  const fa = join(results, `ks-a-${n}.f64`);
  const fb = join(results, `ks-b-${n}.f64`);
  writeFileSync(fa, Buffer.from(a.buffer));
  writeFileSync(fb, Buffer.from(b.buffer));
  const scipy = JSON.parse(execFileSync(python, [join(repoRoot, 'bench', 'statistics', 'scipy_timing.py'), fa, fb], { encoding: 'utf8' })) as { seconds: number; pvalue: number };
  rows.push({ n, ksSeconds, psiSeconds, scipySeconds: scipy.seconds, pValue: ks.pValue, scipyPValue: scipy.pvalue });
  console.log(`  ${String(n).padStart(9)}  ${(ksSeconds * 1000).toFixed(1).padStart(8)} ms  ${(psiSeconds * 1000).toFixed(1).padStart(8)} ms  ${(scipy.seconds * 1000).toFixed(1).padStart(12)} ms      ${ks.pValue.toPrecision(6)} / ${scipy.pvalue.toPrecision(6)}`);
}
const [small, large] = rows as [Record<string, number>, Record<string, number>];
const ksRatio = large.ksSeconds! / small.ksSeconds!;
const psiRatio = large.psiSeconds! / small.psiSeconds!;
writeFileSync(join(results, 'statistics.json'), JSON.stringify({ rows, ksRatio, psiRatio }, null, 2) + '\n');
const ok = (pass: boolean) => (pass ? 'met' : 'MISSED');
console.log(`
time ratio 2·10⁶ / 2·10⁵ per side     value   target
  KS                                ${ksRatio.toFixed(2).padStart(8)}   ≤ 12  ${ok(ksRatio <= 12)}
  PSI                               ${psiRatio.toFixed(2).padStart(8)}   ≤ 12  ${ok(psiRatio <= 12)}
  ours / scipy ks_2samp at 2·10⁶    ${(large.ksSeconds! / large.scipySeconds!).toFixed(2).padStart(8)}
(results in ${results}/statistics.json)`);
