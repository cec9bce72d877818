import { checkJsonShape } from '../../../../inference-server/http/body.js';

const bytes = (s: string) => Buffer.from(s);

it('lets a tensor of 1,024 rows and JSON with brackets inside strings through', () => {
  expect(() => checkJsonShape(bytes(JSON.stringify({ instances: Array.from({ length: 1024 }, () => [1, 2, 3, 4, 5, 6, 7, 8]) })))).not.toThrow();
  expect(() => checkJsonShape(bytes(JSON.stringify({ note: '['.repeat(100) + '\\"{'.repeat(100) })))).not.toThrow();
});

it('refuses JSON nested past 32 levels, and more than 65,536 arrays and objects, before it is parsed', () => {
  expect(() => checkJsonShape(bytes('['.repeat(33) + ']'.repeat(33)))).toThrow(expect.objectContaining({ status: 400, field: 'body', message: 'the JSON nests deeper than 32 levels' }));
  expect(() => checkJsonShape(bytes('['.repeat(32) + ']'.repeat(32)))).not.toThrow();
  expect(() => checkJsonShape(bytes(`[${'{},'.repeat(65_536)}{}]`))).toThrow(expect.objectContaining({ status: 413, message: 'the JSON holds more than 65536 arrays and objects' }));
  // An escaped quote does not end a string: the brackets after it are still inside it.
  expect(() => checkJsonShape(bytes(`["\\"${'['.repeat(40)}"]`))).not.toThrow();
});

it('counts brackets after a string that ends in an escaped backslash, and in a plain Uint8Array too', () => {
  // "\\" is a whole string (an escaped backslash): the 33 brackets after it are structure.
  expect(() => checkJsonShape(bytes(`["\\\\",${'['.repeat(33)}${']'.repeat(33)}]`))).toThrow(expect.objectContaining({ message: 'the JSON nests deeper than 32 levels' }));
  // Three backslashes before a quote: an escaped backslash, then an escaped quote — still inside.
  expect(() => checkJsonShape(bytes(`["\\\\\\"${'['.repeat(40)}"]`))).not.toThrow();
  expect(() => checkJsonShape(new Uint8Array(Buffer.from('['.repeat(33) + ']'.repeat(33))))).toThrow(expect.objectContaining({ status: 400 }));
  // The same verdict as the byte-by-byte reading on a large tensor body with strings between.
  const body = JSON.stringify({ id: 'a"[{', inputs: [{ name: 'x[', shape: [1, 50_000], datatype: 'FP32', data: Array.from({ length: 50_000 }, (_, i) => i / 7) }] });
  expect(() => checkJsonShape(bytes(body))).not.toThrow();
});
