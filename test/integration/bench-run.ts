// Running one benchmark of `make bench` as it runs there (dist/bench/<script>), for the smoke runs in
// `make test`: its results go to the directory given, its output is shown only when it fails.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../hack/cluster/controlplane.js';

export function runBenchInto(results: string, script: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(repoRoot, 'dist', 'bench', script), ...args], {
      cwd: repoRoot, env: { ...process.env, CLINOPS_BENCH_RESULTS: results }, maxBuffer: 64 * 1024 ** 2, timeout: 480_000,
    }, (err, stdout, stderr) => (err ? reject(new Error(`${script} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`)) : resolve()));
  });
}
