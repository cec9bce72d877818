// The reference pages are made from their sources (the CRDs' schemas, the settings tables): a committed
// page that differs from what its source makes now fails here — run `make docs` and commit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pages } from '../../hack/gen-docs.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

it.each(pages(root).map((p) => [p.path, p.text]))('%s is what its source makes', (path, text) => {
  expect(readFileSync(join(root, path), 'utf8')).toBe(text);
});

it('lists every field of the ClinicalModel, with its schema\'s bounds and rules', () => {
  const page = pages(root).find((p) => p.path.endsWith('clinicalmodel.md'))!.text;
  for (const field of ['spec.model.sha256', 'spec.serving.apiKeySecretRef', 'spec.serving.allowUnauthenticated', 'spec.approval.distinctSigners', 'status.escalation.level']) {
    expect(page).toContain(`| \`${field}\` |`);
  }
  expect(page).toContain('serving.apiKeySecretRef is required');
});

it('lists every flag of clinops serve, with its variable', () => {
  const page = pages(root).find((p) => p.path.endsWith('flags.md'))!.text;
  for (const [flag, env] of [['--decode-budget', 'CLINOPS_DECODE_BUDGET'], ['--allow-unauthenticated', 'CLINOPS_ALLOW_UNAUTHENTICATED'], ['--read-timeout', 'CLINOPS_READ_TIMEOUT_MS']]) {
    expect(page).toMatch(new RegExp(`\\| \`${flag}[^|]*\` \\| \`${env}\` \\|`));
  }
});
