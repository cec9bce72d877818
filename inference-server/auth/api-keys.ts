// API keys from a file mounted from a Secret, reloaded when it changes. The file is JSON:
//   {"keys": [{"id": "pacs-gateway", "key": "…"}, {"id": "ehr", "sha256": "<hex of the key>", "scopes": ["predict", "feedback"]}]}
// A key does what its scopes allow: predict, feedback (report ground truth, which the operator judges
// performance on — so a key that may predict cannot fake a dip), jobs. Without "scopes": predict and jobs.
// Only hashes are kept in memory; a presented key is hashed and compared with every known hash in
// constant time, so neither timing nor an early exit tells how close a guess was.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { fail } from '../errors.js';

/** What a key may do. */
export type Scope = 'predict' | 'feedback' | 'jobs';
export const SCOPES: readonly Scope[] = ['predict', 'feedback', 'jobs'];
/** The scopes of a key that names none: everything but reporting ground truth. */
export const DEFAULT_SCOPES: readonly Scope[] = ['predict', 'jobs'];
const DOING: Record<Scope, string> = { predict: 'predict', feedback: 'report ground truth', jobs: 'run prediction jobs' };

export interface KeyEntry {
  id: string;
  hash: Buffer;
  scopes: ReadonlySet<Scope>;
}

export class ApiKeys {
  private entries: KeyEntry[] = [];
  private stamp = '';
  private timer: NodeJS.Timeout | undefined;

  /**
   * `parse`: the file's format; parseKeys by default. The monitoring key file holds one key as plain
   * text (parseSingleKey), the id it is known by fixed.
   */
  constructor(
    private readonly path: string,
    private readonly log: (msg: string, fields?: Record<string, unknown>) => void,
    private readonly parse: (text: string) => KeyEntry[] = parseKeys,
  ) {
    this.load(true);
  }

  get count(): number {
    return this.entries.length;
  }

  /** Poll the file (Secret volumes update by swapping a symlink, which fs.watch misses). */
  watch(intervalMs = 2000): void {
    this.timer = setInterval(() => this.load(false), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Re-read the file if it changed. At startup a bad file is fatal; later the last good keys stay. */
  load(strict: boolean): void {
    let text: string;
    let stamp: string;
    try {
      const st = statSync(this.path);
      text = readFileSync(this.path, 'utf8');
      stamp = `${st.mtimeMs}:${st.size}:${createHash('sha256').update(text).digest('hex')}`;
    } catch (err) {
      if (strict) throw new Error(`API key file ${this.path} cannot be read: ${(err as Error).message}`);
      return;
    }
    if (stamp === this.stamp) return;
    try {
      const entries = this.parse(text);
      this.entries = entries;
      this.stamp = stamp;
      this.log('api keys loaded', { file: this.path, keys: entries.map((e) => e.id) });
    } catch (err) {
      if (strict) throw new Error(`API key file ${this.path}: ${(err as Error).message}`);
      this.log('api key file not reloaded; keeping the previous keys', { file: this.path, error: (err as Error).message });
      this.stamp = stamp;
    }
  }

  /** The key's id, or an error to answer: 401 when no key is presented, 403 when it is unknown or lacks `scope`. */
  authenticate(req: IncomingMessage, scope?: Scope): string {
    const auth = req.headers.authorization;
    const bearer = auth ? /^Bearer\s+(.+)$/i.exec(auth)?.[1] : undefined;
    const header = req.headers['x-api-key'];
    const presented = (typeof header === 'string' ? header : undefined) ?? bearer;
    if (!presented) throw fail('apiKeyRequired', {}, 'x-api-key', { 'www-authenticate': 'Bearer' });
    const entry = this.match(presented);
    if (!entry) throw fail('apiKeyInvalid', {}, 'x-api-key');
    if (scope && !entry.scopes.has(scope)) {
      throw fail('apiKeyScope', { id: entry.id, what: DOING[scope], scope, scopes: [...entry.scopes].join(', ') || 'none' }, 'x-api-key');
    }
    return entry.id;
  }

  /** The id of the key, or undefined when it matches none. */
  identify(presented: string): string | undefined {
    return this.match(presented)?.id;
  }

  private match(presented: string): KeyEntry | undefined {
    const h = createHash('sha256').update(presented).digest();
    let found: KeyEntry | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(h, e.hash) && found === undefined) found = e;
    }
    return found;
  }
}

/** The key file's entries (pure): ids unique, each a key of 16 characters or more, or the sha256 of one. */
export function parseKeys(text: string): KeyEntry[] {
  const doc = JSON.parse(text) as { keys?: unknown };
  if (!doc || !Array.isArray(doc.keys) || doc.keys.length === 0) throw new Error('needs {"keys": [{"id": …, "key" or "sha256": …}, …]}');
  const ids = new Set<string>();
  return doc.keys.map((k: { id?: unknown; key?: unknown; sha256?: unknown; scopes?: unknown }, i: number) => {
    if (typeof k?.id !== 'string' || k.id === '') throw new Error(`keys[${i}] needs an id`);
    if (ids.has(k.id)) throw new Error(`keys[${i}]: id "${k.id}" appears twice`);
    ids.add(k.id);
    if (k.scopes !== undefined && (!Array.isArray(k.scopes) || k.scopes.some((x) => !SCOPES.includes(x as Scope)))) {
      throw new Error(`keys[${i}] ("${k.id}"): scopes must be a list of ${SCOPES.join(', ')}`);
    }
    const scopes = new Set((k.scopes as Scope[] | undefined) ?? DEFAULT_SCOPES);
    if (typeof k.key === 'string' && k.key.length >= 16) return { id: k.id, hash: createHash('sha256').update(k.key).digest(), scopes };
    if (typeof k.sha256 === 'string' && /^[0-9a-fA-F]{64}$/.test(k.sha256)) return { id: k.id, hash: Buffer.from(k.sha256, 'hex'), scopes };
    throw new Error(`keys[${i}] ("${k.id}") needs a key of at least 16 characters or the sha256 of one`);
  });
}

/** A file holding one key as plain text (a Secret's value), known by `id`. */
export function parseSingleKey(id: string): (text: string) => KeyEntry[] {
  return (text) => {
    const key = text.trim();
    if (key.length < 16) throw new Error('needs a key of at least 16 characters');
    return [{ id, hash: createHash('sha256').update(key).digest(), scopes: new Set<Scope>() }];
  };
}
