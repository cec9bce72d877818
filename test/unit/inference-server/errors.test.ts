// The error catalogue: every message has a code with a status, fills its placeholders from the values
// given, and is raised somewhere (a catalogue entry nothing raises is a message nobody can get).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS, fail, MESSAGES, type MessageId, render } from '../../../inference-server/errors.js';

const serverDir = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../inference-server');
const sources = (dir: string): string[] => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') && !p.endsWith('errors.ts') ? [readFileSync(p, 'utf8')] : [];
});

it('gives every message a code that has an HTTP status', () => {
  for (const [id, [code, template]] of Object.entries(MESSAGES)) {
    expect([id, ERRORS[code]]).toEqual([id, expect.any(Number)]);
    expect(template.length).toBeGreaterThan(5);
  }
});

it('fills the placeholders, leaves literal braces alone, and carries status, field and headers', () => {
  expect(render('modelNotFound', { model: 'x', served: 'sepsis' })).toBe('no model named "x"; this server serves "sepsis"');
  expect(render('outputsNotArray')).toBe('outputs must be an array of {name}');
  const e = fail('queueFull', { maxQueue: 256 }, undefined, { 'retry-after': '1' });
  expect(e).toMatchObject({ status: 503, code: 'QUEUE_FULL', message: 'the inference queue is full (256 instances); retry shortly', headers: { 'retry-after': '1' } });
  expect(fail('instancesMissing', {}, 'instances').toJSON()).toEqual({ error: 'instances is required: an array of inputs, one per prediction', code: 'MISSING_FIELD', field: 'instances' });
});

it('raises every message somewhere in the server', () => {
  const text = sources(serverDir).join('\n');
  const unused = (Object.keys(MESSAGES) as MessageId[]).filter((id) => !text.includes(`'${id}'`));
  expect(unused).toEqual([]);
});
