// Which handler a request goes to: routes are path patterns with `:name` segments, matched segment by
// segment (no regular expressions). A path that matches with another method is a 405 with the methods
// it has; no match is a 404 (the caller answers both). HEAD is answered by GET's handler (Node sends no body for HEAD).
import { fail } from '../errors.js';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface Route<H> {
  /** The pattern, as the metrics label: /v2/models/:model/infer. */
  pattern: string;
  method: Method;
  handler: H;
}

export type Match<H> =
  | { kind: 'found'; route: Route<H>; params: Record<string, string> }
  | { kind: 'wrong-method'; pattern: string; allow: string }
  | { kind: 'none' };

interface Compiled<H> {
  route: Route<H>;
  segments: string[];
}

export class Router<H> {
  private readonly routes: Compiled<H>[] = [];

  add(method: Method, pattern: string, handler: H): this {
    this.routes.push({ route: { pattern, method, handler }, segments: pattern.split('/').slice(1) });
    return this;
  }

  /** The route for a method and path; or the pattern and methods the path has; or none. */
  match(method: string, path: string): Match<H> {
    const parts = path.split('/').slice(1);
    const want = method === 'HEAD' ? 'GET' : method;
    const allowed = new Set<string>();
    let pattern: string | undefined;
    for (const c of this.routes) {
      const params = matchSegments(c.segments, parts);
      if (!params) continue;
      if (c.route.method === want) return { kind: 'found', route: c.route, params };
      allowed.add(c.route.method);
      pattern ??= c.route.pattern;
    }
    return pattern === undefined ? { kind: 'none' } : { kind: 'wrong-method', pattern, allow: [...allowed].join(', ') };
  }
}

function matchSegments(pattern: readonly string[], parts: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  let params: Record<string, string> | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith(':')) {
      if (v === '') return undefined;
      params ??= {};
      params[p.slice(1)] = decodeSegment(v);
    } else if (p !== v) {
      return undefined;
    }
  }
  return params ?? {};
}

function decodeSegment(v: string): string {
  if (!v.includes('%')) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    throw fail('badPathEncoding', {}, 'path');
  }
}
