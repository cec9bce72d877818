import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeys, parseKeys } from '../../../../inference-server/auth/api-keys.js';

it('keeps only hashes, of keys or given as sha256', () => {
  const entries = parseKeys(JSON.stringify({ keys: [{ id: 'pacs', key: 'k'.repeat(16) }, { id: 'ehr', sha256: 'A'.repeat(64) }] }));
  expect(entries.map((e) => e.id)).toEqual(['pacs', 'ehr']);
  expect(entries[0]!.hash).toEqual(createHash('sha256').update('k'.repeat(16)).digest());
  expect(entries[1]!.hash.toString('hex')).toBe('a'.repeat(64));
  expect(JSON.stringify(entries)).not.toContain('k'.repeat(16));
});

it.each([
  ['{}', 'needs {"keys"'],
  ['{"keys": [{"key": "kkkkkkkkkkkkkkkk"}]}', 'keys[0] needs an id'],
  ['{"keys": [{"id": "a", "key": "short"}]}', 'needs a key of at least 16 characters'],
  ['{"keys": [{"id": "a", "key": "kkkkkkkkkkkkkkkk"}, {"id": "a", "key": "jjjjjjjjjjjjjjjj"}]}', 'id "a" appears twice'],
])('refuses %s naming the entry', (text, message) => {
  expect(() => parseKeys(text)).toThrow(message);
});

it('refuses a scope that is not predict, feedback or jobs', () => {
  expect(() => parseKeys('{"keys": [{"id": "a", "key": "kkkkkkkkkkkkkkkk", "scopes": ["admin"]}]}')).toThrow('keys[0] ("a"): scopes must be a list of predict, feedback, jobs');
});

it('lets a key do only what its scopes allow: reporting ground truth needs "feedback", which no key has unless given', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clinops-keys-'));
  const file = join(dir, 'keys.json');
  writeFileSync(file, JSON.stringify({ keys: [{ id: 'pacs', key: 'p'.repeat(16) }, { id: 'ehr', key: 'e'.repeat(16), scopes: ['feedback'] }] }));
  const keys = new ApiKeys(file, () => undefined);
  const req = (key: string) => ({ headers: { 'x-api-key': key } }) as unknown as IncomingMessage;
  expect(keys.authenticate(req('p'.repeat(16)), 'predict')).toBe('pacs');
  expect(keys.authenticate(req('p'.repeat(16)), 'jobs')).toBe('pacs');
  expect(() => keys.authenticate(req('p'.repeat(16)), 'feedback')).toThrow(expect.objectContaining({ status: 403,
    message: 'the API key "pacs" may not report ground truth: it lacks the "feedback" scope (its scopes: predict, jobs)' }));
  expect(keys.authenticate(req('e'.repeat(16)), 'feedback')).toBe('ehr');
  expect(() => keys.authenticate(req('e'.repeat(16)), 'predict')).toThrow('may not predict');
  expect(() => keys.authenticate(req('x'.repeat(16)), 'predict')).toThrow('the API key is not valid');
});
