// The reference pages made from their one source of truth, so they cannot drift from it: the
// ClinicalModel and RevokedVersion fields from the CRDs' own schemas and descriptions, and the flags of
// `clinops serve` and `clinops operator` from their settings tables. `make docs` writes them;
// test/unit/docs.test.ts fails when a committed page differs from what its source makes now.
//   node dist/hack/gen-docs.js [--check]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, type JsonSchema, type Setting } from '../contract/settings.js';
import { serverSettings } from '../inference-server/config.js';
import { operatorSettings } from '../operator/config.js';

/** The repository: this file runs from hack/ (ts) or dist/hack/ (js). */
const here = dirname(fileURLToPath(import.meta.url));
const root = here.split(sep).includes('dist') ? join(here, '..', '..') : join(here, '..');

interface Schema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-validations'?: Array<{ rule: string; message?: string }>;
}

const oneLine = (s: string | undefined) => (s ?? '').replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');

/** "1–8", "at least 1", "at most 64". */
function range(min: number | undefined, max: number | undefined): string {
  return min !== undefined && max !== undefined ? `${min}–${max}` : min !== undefined ? `at least ${min}` : `at most ${max}`;
}

function bounds(s: Schema): string {
  const b: string[] = [];
  if (s.enum) b.push(`one of ${s.enum.map((x) => `\`${String(x)}\``).join(', ')}`);
  if (s.minimum !== undefined || s.maximum !== undefined) b.push(range(s.minimum, s.maximum));
  if (s.minLength !== undefined || s.maxLength !== undefined) b.push(`${range(s.minLength, s.maxLength)} characters`);
  if (s.minItems !== undefined || s.maxItems !== undefined) b.push(`${range(s.minItems, s.maxItems)} items`);
  if (s.pattern) b.push(`matches \`${s.pattern.replace(/\|/g, '\\|')}\``);
  return b.join('; ');
}

/** One row per field, depth first, in the schema's order: path, type, required, default, bounds, description. */
function fields(s: Schema, path: string, required: boolean, rows: string[]): void {
  const type = s.type === 'array' ? `array of ${s.items?.type ?? 'any'}` : (s.type ?? 'any');
  const rules = (s['x-kubernetes-validations'] ?? []).map((v) => oneLine(v.message ?? v.rule)).filter((x) => x);
  const def = s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``;
  const text = [oneLine(s.description), ...rules.map((r) => `Rule: ${r}.`)].filter((x) => x).join(' ');
  if (path) rows.push(`| \`${path}\` | ${type} | ${required ? 'yes' : ''} | ${def} | ${bounds(s)} | ${text} |`);
  const req = new Set(s.required ?? []);
  for (const [k, v] of Object.entries(s.properties ?? {})) fields(v, path ? `${path}.${k}` : k, req.has(k), rows);
  if (s.type === 'array' && s.items?.properties) {
    const ireq = new Set(s.items.required ?? []);
    for (const [k, v] of Object.entries(s.items.properties)) fields(v, `${path}[].${k}`, ireq.has(k), rows);
  }
}

export function crdReference(crdYaml: string): string {
  const crd = parse(crdYaml) as { spec: { names: { kind: string; shortNames?: string[] }; group: string; versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> } };
  const v = crd.spec.versions[0]!;
  const schema = v.schema.openAPIV3Schema;
  const rows: string[] = [];
  for (const part of ['spec', 'status']) {
    if (schema.properties?.[part]) fields(schema.properties[part]!, part, (schema.required ?? []).includes(part), rows);
  }
  const short = crd.spec.names.shortNames?.length ? ` (short name \`${crd.spec.names.shortNames.join('`, `')}\`)` : '';
  return [
    `# ${crd.spec.names.kind} reference`,
    '',
    `\`${crd.spec.group}/${v.name}\`, kind \`${crd.spec.names.kind}\`${short}. ${oneLine(schema.description)}`,
    '',
    'Made by `make docs` from the CRD in `crds/` — its schema, defaults, bounds, rules and descriptions are the',
    'source; edit them there. The API server enforces every bound and rule listed here.',
    '',
    '| field | type | required | default | bounds | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function flagRows<C>(table: readonly Setting<C>[]): string[] {
  return table.map((s) => {
    const flag = s.flag ? `\`${s.flag}${s.arg ? ` ${s.arg}` : ''}\`` : '';
    const env = s.env ? `\`${s.env}\`` : '';
    const def = s.required ? 'required' : typeof s.default === 'function' ? 'computed (see meaning)' : s.default === undefined ? '' : `\`${JSON.stringify(s.default)}\``;
    // What the refusal of a bad value says it must "be", without the "be"; nothing for any string.
    const takes = (s.expect ?? describe(s.schema as JsonSchema)).replace(/^be /, '').replace(/^a valid value$/, '');
    return `| ${flag} | ${env} | ${def} | ${oneLine(takes)} | ${oneLine(s.help)} |`;
  });
}

export function flagsReference(): string {
  const head = ['| flag | environment | default | takes | meaning |', '| --- | --- | --- | --- | --- |'];
  return [
    '# Flags of `clinops serve` and `clinops operator`',
    '',
    'Made by `make docs` from the settings tables (`inference-server/config.ts`, `operator/config.ts`), which',
    'also make the commands\' options and validate them: a flag wins over its variable, a variable over the',
    'default. A bad value stops the process with exit status 2, naming the flag and what it takes.',
    '',
    '## `clinops serve`',
    '',
    ...head,
    ...flagRows(serverSettings(2)),
    '',
    '## `clinops operator`',
    '',
    ...head,
    ...flagRows(operatorSettings({})),
    '',
  ].join('\n');
}

/** Each generated page: where it lives and what its source makes of it now. */
export function pages(repo = root): Array<{ path: string; text: string }> {
  return [
    { path: 'docs/reference/clinicalmodel.md', text: crdReference(readFileSync(join(repo, 'crds', 'clinicalmodels.clinops.dev.yaml'), 'utf8')) },
    { path: 'docs/reference/revokedversion.md', text: crdReference(readFileSync(join(repo, 'crds', 'revokedversions.clinops.dev.yaml'), 'utf8')) },
    { path: 'docs/reference/flags.md', text: flagsReference() },
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const p of pages()) writeFileSync(join(root, p.path), p.text);
  console.log(`written: ${pages().map((p) => p.path).join(', ')}`);
}
