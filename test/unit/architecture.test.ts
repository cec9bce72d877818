// The import graph of the product's code, read from its sources: no import circle anywhere, and none of
// the arrows that would run back up (a lower room importing a higher one). A move that adds one fails here.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = normalize(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
const ROOMS = ['operator', 'inference-server', 'contract', 'statistics', 'cli', 'bench', 'hack'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : sources(p);
    return p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
  });
}

/** Each file's relative imports (type-only ones too: a circle of types is still a circle), as repository paths. */
function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const file of ROOMS.flatMap((r) => sources(join(root, r)))) {
    const text = readFileSync(file, 'utf8');
    const deps = [...text.matchAll(/^(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) =>
      relative(root, normalize(join(dirname(file), m[1]!))).replace(/\.js$/, '.ts'));
    g.set(relative(root, file), deps);
  }
  return g;
}

/** Strongly connected components of more than one file (Tarjan). */
function circles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        on.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

const g = graph();

it('reads the whole product', () => {
  expect(g.size).toBeGreaterThan(100);
  expect(g.get('operator/controller/phases/children.ts')).toContain('operator/desired/deployment.ts');
});

it('has no import circle', () => {
  expect(circles(g)).toEqual([]);
});

it('finds a circle when there is one (the check itself)', () => {
  expect(circles(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]))).toEqual([['a.ts', 'b.ts', 'c.ts']]);
});

/** Rooms that must not import another: [from, to, why]. */
const DOWNWARD_ONLY: Array<[string, string, string]> = [
  ['operator/desired/', 'operator/controller/', 'desired state is computed, never read back from the reconcile loop'],
  ['operator/desired/', 'operator/escalation/', 'what a level does is the API\'s (api/levels.ts)'],
  ['operator/serving/', 'operator/controller/', 'which version serves sits below the loop'],
  ['operator/serving/', 'operator/acceptance/', 'acceptance asks which version serves, not the other way'],
  ['operator/serving/', 'operator/rollout/', 'rollout asks which version serves, not the other way'],
  ['operator/rollout/', 'operator/controller/', 'a rollout pass is judged from values'],
  ['operator/acceptance/', 'operator/controller/', 'the gates are judged from values'],
  ['operator/escalation/', 'operator/acceptance/', 'escalation asks serving/ which version serves'],
  ['operator/escalation/', 'operator/gathering/', 'when a check is due is drift/schedule.ts'],
  ['operator/escalation/', 'operator/controller/', 'the escalation step is pure'],
  ['operator/drift/', 'operator/escalation/', 'the judge owns its findings; escalation consumes them'],
  ['operator/drift/', 'operator/gathering/', 'the judge owns its input (drift/input.ts); gathering fills it'],
  ['operator/drift/', 'operator/controller/', 'the judge is pure'],
  ['operator/controller/phases/', 'operator/controller/gather.ts', 'a phase decides from the observed value; only gather.ts reads'],
  ['operator/controller/phases/', 'operator/controller/act.ts', 'a phase decides; only act.ts writes'],
  ['operator/controller/phases/', 'operator/controller/reconciler.ts', 'the loop runs the phases, not the other way'],
  ['operator/controller/phases/', 'operator/kube/', 'a phase never talks to the API server'],
  ['operator/controller/phases/', 'operator/gathering/', 'a phase never reads the replicas'],
  ['operator/api/', 'operator/', 'the API types stand alone'],
  ['contract/', 'operator/', 'the contract is below both processes'],
  ['contract/', 'inference-server/', 'the contract is below both processes'],
  ['inference-server/', 'operator/', 'the server never imports the operator'],
  ['statistics/', 'operator/', 'the statistics stand alone (the CLI uses them too)'],
  ['statistics/', 'inference-server/', 'the statistics stand alone'],
  ['operator/', 'inference-server/', 'the operator never imports the server'],
  ['inference-server/preprocess/', 'inference-server/config.ts', 'preprocessing\'s shape is the contract\'s'],
  ['inference-server/http/routes/', 'inference-server/http/app.ts', 'routes take their types from http/route.ts'],
];

it('has no import that runs back up', () => {
  const wrong: string[] = [];
  for (const [file, deps] of g) {
    for (const dep of deps) {
      for (const [from, to, why] of DOWNWARD_ONLY) {
        const exempt = from === 'operator/api/' && dep.startsWith('operator/api/');
        if (file.startsWith(from) && dep.startsWith(to) && !exempt) wrong.push(`${file} → ${dep}: ${why}`);
      }
    }
  }
  expect(wrong).toEqual([]);
});

it('keeps every Event reason in the catalogue, each once', async () => {
  const { EVENT_REASONS, isEventReason } = await import('../../operator/api/reasons.js');
  expect(new Set(EVENT_REASONS).size).toBe(EVENT_REASONS.length);
  for (const r of EVENT_REASONS) expect(r).toMatch(/^[A-Z][A-Za-z]+$/);
  // Every reason written as a literal in an Event call is listed (the compiler checks the typed calls;
  // this catches one passed through a string).
  const used = [...ROOMS.flatMap((r) => sources(join(root, r))).filter((f) => f.includes('/operator/'))
    .flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/record\([^,]+, '(?:Normal|Warning)', '([A-Za-z]+)'|type: '(?:Normal|Warning)', reason: '([A-Za-z]+)'/g)]
      .map((m) => (m[1] ?? m[2])!))];
  expect(used.length).toBeGreaterThan(10);
  expect(used.filter((r) => !isEventReason(r))).toEqual([]);
});

it('keeps every condition reason in its catalogue, each once', async () => {
  const { CONDITION_REASONS, isConditionReason } = await import('../../operator/api/reasons.js');
  expect(new Set(CONDITION_REASONS).size).toBe(CONDITION_REASONS.length);
  for (const r of CONDITION_REASONS) expect(r).toMatch(/^[A-Z][A-Za-z0-9]+$/);
  // The compiler checks the literals; these come from outside (the kubelet, the server's exit word).
  expect(['CrashLoopBackOff', 'DigestMismatch', 'Crashed', 'Level2Pause'].every(isConditionReason)).toBe(true);
  expect(isConditionReason('SomethingElse')).toBe(false);
});

