// There is no Docker engine here to build the images, so the Dockerfiles are checked the way a
// linter would: pinned bases, a non-root numeric user, no remote ADD, no secrets, ports declared,
// a health check, OCI labels, and a .dockerignore that lets in only what the build needs.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

/** Instructions with line continuations joined: [keyword, rest]. */
function instructions(text: string): Array<[string, string]> {
  return text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const i = l.search(/\s/);
      return [l.slice(0, i).toUpperCase(), l.slice(i + 1).trim()] as [string, string];
    });
}

describe.each(['Dockerfile.server', 'Dockerfile.operator'])('%s', (file) => {
  const ins = instructions(readFileSync(join(root, file), 'utf8'));
  const args = new Map(ins.filter(([k]) => k === 'ARG').map(([, v]) => v.split('=') as [string, string]));
  const stages = new Set(ins.filter(([k, v]) => k === 'FROM' && / AS /i.test(v)).map(([, v]) => v.split(/ AS /i)[1]!.trim()));
  const finalStage = ins.slice(ins.map(([k]) => k).lastIndexOf('FROM'));

  it('builds from pinned base images only', () => {
    for (const [k, v] of ins.filter(([key]) => key === 'FROM')) {
      const image = v.split(/ AS /i)[0]!.trim().replace(/\$\{(\w+)\}/g, (_, name: string) => args.get(name) ?? `\${${name}}`);
      if ([...stages].some((st) => image === st || image.startsWith('runtime-'))) continue;
      expect(`${k} ${image}`).toMatch(/^FROM [\w./-]+:[\w.-]*\d[\w.-]*(@sha256:[0-9a-f]{64})?$/);
      expect(image).not.toMatch(/:latest$/);
    }
  });

  it('runs as a non-root numeric user', () => {
    const users = finalStage.filter(([k]) => k === 'USER').map(([, v]) => v);
    expect(users.length).toBeGreaterThan(0);
    expect(users[users.length - 1]).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
  });

  it('adds no remote files and bakes in no secrets', () => {
    expect(ins.filter(([k]) => k === 'ADD')).toEqual([]);
    for (const [k, v] of ins.filter(([key]) => key === 'ENV' || key === 'ARG')) {
      expect(`${k} ${v}`).not.toMatch(/(PASSWORD|SECRET|TOKEN|API_?KEY|PRIVATE_KEY)\s*=/i);
    }
  });

  it('declares its port, a health check, OCI labels and an entrypoint', () => {
    expect(finalStage.some(([k]) => k === 'EXPOSE')).toBe(true);
    expect(finalStage.some(([k]) => k === 'HEALTHCHECK')).toBe(true);
    const labels = finalStage.filter(([k]) => k === 'LABEL').map(([, v]) => v).join(' ');
    expect(labels).toContain('org.opencontainers.image.title=');
    expect(labels).toContain('org.opencontainers.image.version=');
    expect(finalStage.some(([k, v]) => k === 'ENTRYPOINT' && v.includes('dist/cli/main.js'))).toBe(true);
  });

  it('installs production dependencies only in the image it ships', () => {
    expect(ins.some(([k, v]) => k === 'RUN' && /npm ci --omit=dev/.test(v))).toBe(true);
  });
});

it('.dockerignore lets in only the package, tsconfig and sources', () => {
  const lines = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  expect(lines[0]).toBe('**');
  expect(lines.filter((l) => l.startsWith('!')).sort()).toEqual(
    ['!cli/**', '!contract/**', '!inference-server/**', '!operator/**', '!package-lock.json', '!package.json', '!statistics/**', '!tsconfig.dist.json', '!tsconfig.json']);
});
