// A process's settings as one declarative table: each setting once — its flag, its environment
// variable, its type and range (a JSON Schema), its default and its help. The CLI's options are made
// from the table, and so is the validation: flags first, then the environment, then defaults; the
// result is checked against the table's schema with ajv, and deep-frozen. A refusal names the flag
// and the variable, and says what would be accepted.
import { Ajv, type ErrorObject } from 'ajv';
import type { Command } from 'commander';

/** How a setting's text (a flag's or a variable's value) becomes its value before the schema checks it. */
export type Kind = 'string' | 'integer' | 'number' | 'boolean' | 'json' | 'list';

export interface JsonSchema {
  type?: string | string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  enum?: readonly unknown[];
  pattern?: string;
  maxLength?: number;
  minLength?: number;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  properties?: Record<string, JsonSchema>;
  required?: readonly string[];
  additionalProperties?: boolean | JsonSchema;
}

export interface Setting<C> {
  /** The field of the resolved config. */
  key: keyof C & string;
  /** The CLI flag without its argument: --batch-delay. Absent for a variable-only setting. */
  flag?: string;
  /** What the flag's argument is called in help: <ms>. Absent for a switch (a boolean flag). */
  arg?: string;
  /** The flag may be given several times; its values join as a comma-separated list. */
  repeatable?: boolean;
  env?: string;
  kind: Kind;
  schema: JsonSchema;
  /** Said after "must": "be a size such as 512kb or 10mb". Derived from the schema when absent. */
  expect?: string;
  required?: boolean;
  /** A value, or one computed from the settings resolved before this one (the table's order). */
  default?: unknown | ((resolved: Partial<C>) => unknown);
  /** Turns the text into the value the schema checks (sizes, durations), throwing with what is wrong. */
  parse?: (text: string) => unknown;
  help: string;
}

export class SettingError extends Error {
  constructor(readonly setting: string, message: string) {
    super(`invalid setting ${setting}: ${message}`);
    this.name = 'SettingError';
  }
}

/** Where a setting is given: "--batch-delay (CLINOPS_BATCH_DELAY_MS)". */
export function settingName(s: { flag?: string; env?: string; key: string }): string {
  if (s.flag && s.env) return `${s.flag} (${s.env})`;
  return s.flag ?? s.env ?? s.key;
}

/** commander's option name for a flag: --batch-delay → batchDelay. */
export function flagKey(flag: string): string {
  return flag.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Register the table's flags on a command, with help that names each variable and default. */
export function addOptions<C>(cmd: Command, table: readonly Setting<C>[]): Command {
  for (const s of table) {
    if (!s.flag) continue;
    const dflt = typeof s.default === 'function' || s.default === undefined ? '' : `; default ${String(s.default)}`;
    const env = s.env ? ` (env ${s.env}${s.kind === 'boolean' ? '=true' : ''}${dflt})` : '';
    const spec = s.arg ? `${s.flag} ${s.arg}` : s.flag;
    if (s.repeatable) cmd.option(spec, `${s.help}${env}`, (v: string, acc: string[] | undefined) => [...(acc ?? []), v]);
    else cmd.option(spec, `${s.help}${env}`);
  }
  return cmd;
}

const ajv = new Ajv({ allErrors: true, strict: true });

/**
 * Resolve every setting of the table from the flags (by commander's option names) and the
 * environment, validate the whole against the table's schema, and freeze it.
 */
export function resolveSettings<C>(table: readonly Setting<C>[], flags: Record<string, unknown>, env: NodeJS.ProcessEnv): Readonly<C> {
  const out: Record<string, unknown> = {};
  const given = new Map<string, string>();
  for (const s of table) {
    const flagValue = s.flag ? flags[flagKey(s.flag)] : undefined;
    const envValue = s.env ? env[s.env] : undefined;
    const fromFlag = typeof flagValue === 'boolean' ? String(flagValue)
      : Array.isArray(flagValue) && flagValue.length > 0 ? flagValue.join(',')
        : typeof flagValue === 'string' && flagValue !== '' ? flagValue : undefined;
    const text = fromFlag ?? (envValue === '' ? undefined : envValue);
    if (text === undefined) {
      if (s.required) throw new SettingError(settingName(s), 'is required');
      const d = typeof s.default === 'function' ? (s.default as (r: Partial<C>) => unknown)(out as Partial<C>) : s.default;
      if (d !== undefined) out[s.key] = d;
      continue;
    }
    given.set(s.key, text);
    out[s.key] = convert(s, text);
  }
  const schema = {
    type: 'object',
    properties: Object.fromEntries(table.map((s) => [s.key, s.schema])),
    required: table.filter((s) => s.required).map((s) => s.key),
    additionalProperties: false,
  };
  const validate = ajv.compile(schema);
  if (!validate(out)) {
    const err = validate.errors![0]!;
    const key = propertyOf(err);
    const s = table.find((x) => x.key === key);
    if (!s) throw new SettingError(key || 'configuration', err.message ?? 'is not valid');
    const text = given.get(s.key);
    throw new SettingError(settingName(s), `${text !== undefined ? `"${text.slice(0, 80)}" ` : ''}must ${s.expect ?? describe(s.schema)}`);
  }
  return deepFreeze(out) as Readonly<C>;
}

function convert<C>(s: Setting<C>, text: string): unknown {
  const fail = (why?: string): never => {
    throw new SettingError(settingName(s), `"${text.slice(0, 80)}" ${why ?? `must ${s.expect ?? describe(s.schema)}`}`);
  };
  if (s.parse) {
    try {
      return s.parse(text);
    } catch (err) {
      return fail((err as Error).message);
    }
  }
  switch (s.kind) {
    case 'string':
      return text;
    case 'integer':
    case 'number': {
      const n = text.trim() === '' ? NaN : Number(text);
      return Number.isFinite(n) ? n : fail();
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : fail('must be true or false');
    case 'list':
      return text.split(',').map((x) => x.trim());
    case 'json':
      try {
        return JSON.parse(text);
      } catch {
        return fail('is not valid JSON');
      }
  }
}

/** "be a whole number from 0 to 1000", from a schema. */
export function describe(schema: JsonSchema): string {
  if (schema.enum) return `be one of ${schema.enum.map(String).join(', ')}`;
  if (schema.type === 'integer' || schema.type === 'number') {
    const what = schema.type === 'integer' ? 'a whole number' : 'a number';
    if (schema.minimum !== undefined && schema.maximum !== undefined) return `be ${what} from ${schema.minimum} to ${schema.maximum}`;
    if (schema.minimum !== undefined) return `be ${what} of at least ${schema.minimum}`;
    if (schema.exclusiveMinimum !== undefined) return `be ${what} above ${schema.exclusiveMinimum}`;
    return `be ${what}`;
  }
  if (schema.type === 'boolean') return 'be true or false';
  if (schema.pattern) return `match ${schema.pattern}`;
  if (schema.type === 'array') return 'be a list';
  if (schema.type === 'object') return 'be a JSON object';
  return 'be a valid value';
}

function propertyOf(err: ErrorObject): string {
  const path = err.instancePath.split('/')[1];
  if (path) return path;
  return typeof err.params.missingProperty === 'string' ? err.params.missingProperty : '';
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as object)) deepFreeze(x);
  }
  return v;
}
