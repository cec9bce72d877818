// Where benchmarks write their results: bench/results, or CLINOPS_BENCH_RESULTS (the smoke runs in
// `make test` write theirs elsewhere, leaving a real run's figures alone).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../hack/cluster/controlplane.js';

export function resultsDir(): string {
  const dir = process.env.CLINOPS_BENCH_RESULTS ?? join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  return dir;
}
