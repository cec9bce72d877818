import { createHash } from 'node:crypto';
import { parseKeys } from '../../../../inference-server/auth/api-keys.js';

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
