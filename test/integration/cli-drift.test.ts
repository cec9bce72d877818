// `clinops drift` and `clinops reference` as a user runs them: the built CLI, files on disk, exit codes.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jest } from '@jest/globals';
import { generateAll, mlpForward, mlpWeights, rng } from '../models/generate.js';

jest.setTimeout(60_000);
const here = fileURLToPath(new URL('.', import.meta.url));
const cli = join(resolve(here, '../..'), 'dist', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'drift-cli-'));
const fixture = JSON.parse(readFileSync(join(here, '../unit/statistics/fixtures/scipy-reference.json'), 'utf8')) as {
  ks: Array<{ name: string; a: number[]; b: number[]; statistic: number; pvalue: number }>;
  psi: Array<{ name: string; reference: number[]; current: number[]; bins: number; psi: number }>;
};

async function drift(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, 'drift', ...args]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

it.each(fixture.ks.map((c) => [c.name, c]))('equals scipy on the KS reference case "%s"', async (_name, c) => {
  const ref = join(dir, 'ref.json');
  const cur = join(dir, 'cur.txt');
  writeFileSync(ref, JSON.stringify(c.a));
  writeFileSync(cur, c.b.join('\n'));
  const r = await drift(['--reference', ref, '--current', cur, '--json', '--min-samples', '1']);
  const out = JSON.parse(r.stdout);
  expect(Math.abs(out.ks.statistic - c.statistic)).toBeLessThan(1e-9);
  expect(Math.abs(out.ks.pValue - c.pvalue)).toBeLessThan(1e-6);
  expect(r.code).toBe(out.verdict === 'NoDrift' ? 0 : 1);
});

it('equals the numpy PSI and says the verdict in words', async () => {
  const c = fixture.psi.find((x) => x.name === 'significant shift')!;
  writeFileSync(join(dir, 'r.json'), JSON.stringify(c.reference));
  writeFileSync(join(dir, 'c.json'), JSON.stringify(c.current));
  const json = await drift(['--reference', join(dir, 'r.json'), '--current', join(dir, 'c.json'), '--json']);
  expect(Math.abs(JSON.parse(json.stdout).psi - c.psi)).toBeLessThan(1e-9);
  const text = await drift(['--reference', join(dir, 'r.json'), '--current', join(dir, 'c.json')]);
  expect(text.code).toBe(1);
  expect(text.stdout).toMatch(/verdict\s+Significant/);
});

it('exits 2 naming the file and line of a bad value, and 3 with too few samples', async () => {
  writeFileSync(join(dir, 'bad.txt'), '0.9\n0.8\nnot-a-number\n');
  writeFileSync(join(dir, 'ok.json'), '[0.9, 0.8, 0.7]');
  const bad = await drift(['--reference', join(dir, 'ok.json'), '--current', join(dir, 'bad.txt')]);
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('bad.txt:3: "not-a-number" is not a finite number');
  expect((await drift(['--reference', join(dir, 'ok.json'), '--current', join(dir, 'missing.txt')])).stderr).toContain('missing.txt: cannot be read (ENOENT)');
  expect((await drift(['--reference', join(dir, 'ok.json'), '--current', join(dir, 'ok.json'), '--bins', '1'])).code).toBe(2);
  expect((await drift(['--reference', join(dir, 'ok.json'), '--current', join(dir, 'ok.json')])).code).toBe(3);
});

it('`clinops reference` writes the top-class confidences of a model on a holdout set', async () => {
  const model = generateAll(join(dir, 'models'), false).mlp!;
  const r = rng(5);
  const holdout = Array.from({ length: 100 }, () => Array.from({ length: 8 }, () => r() * 2 - 1));
  writeFileSync(join(dir, 'holdout.json'), JSON.stringify(holdout));
  await promisify(execFile)(process.execPath, [cli, 'reference', '--model', model.path, '--holdout', join(dir, 'holdout.json'), '--out', join(dir, 'reference.json')]);
  const conf = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as number[];
  expect(conf).toHaveLength(100);
  conf.forEach((c, i) => expect(c).toBeCloseTo(Math.max(...mlpForward(mlpWeights(), holdout[i]!)), 6));
});
