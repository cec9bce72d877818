// The shipped monitoring and GitOps pieces, run by the tools that will run them: promtool checks and
// unit-tests the alert rules; Lua 5.1 (what Argo CD embeds) runs the ClinicalModel health check
// against objects in each state the operator reports.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../hack/cluster/controlplane.js';

const run = promisify(execFile);
const files = join(repoRoot, 'charts', 'clinops', 'files');

it("the sepsis sample's reference ConfigMap is what `clinops reference` makes of its model today", async () => {
  await run(process.execPath, [join(repoRoot, 'dist', 'hack', 'sample-reference.js'), '--check']);
});

describe('promtool', () => {
  it('checks the rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', join(files, 'prometheus-rules.yaml')]);
    expect(stdout).toContain('SUCCESS: 11 rules found');
  });

  it('passes the rules unit tests', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', join(repoRoot, 'test', 'prometheus', 'rules.test.yaml')]);
    expect(stdout).toContain('SUCCESS');
  });

  it('fails a rule test whose expectation is wrong (the tests can fail)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const text = readFileSync(join(repoRoot, 'test', 'prometheus', 'rules.test.yaml'), 'utf8')
      .replace('../../charts/clinops/files/prometheus-rules.yaml', join(files, 'prometheus-rules.yaml'))
      .replace('severity: critical, page: "true"', 'severity: warning, page: "true"');
    writeFileSync(join(dir, 'rules.test.yaml'), text);
    const failure = await run('promtool', ['test', 'rules', join(dir, 'rules.test.yaml')]).then(() => undefined, (e: { stdout: string; stderr: string }) => e);
    expect(failure).toBeDefined();
    expect(`${failure!.stdout}${failure!.stderr}`).toMatch(/FAILED[\s\S]*ClinicalModelEscalationLevel3/);
  });
});

/** A JSON value as a Lua table constructor. */
function lua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `{${v.map(lua).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${JSON.stringify(k)}] = ${lua(x)}`).join(', ')}}`;
}

const script = readFileSync(join(files, 'argocd', 'health.lua'), 'utf8');

async function health(obj: object): Promise<{ status: string; message: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'argocd-health-'));
  const file = join(dir, 'run.lua');
  // Argo CD runs the script as a function body with the object in the global `obj`.
  writeFileSync(file, `obj = ${lua(obj)}\nlocal hs = (function()\n${script}\nend)()\nio.write(hs.status, "\\n", hs.message or "")\n`);
  const { stdout } = await run('lua5.1', [file]);
  const [status, ...message] = stdout.split('\n');
  return { status: status!, message: message.join('\n') };
}

const base = { apiVersion: 'clinops.dev/v1alpha1', kind: 'ClinicalModel', metadata: { name: 'sepsis', namespace: 'icu', generation: 2 } };
const ready = (status: 'True' | 'False', reason: string, message: string) => ({ type: 'Ready', status, reason, message, lastTransitionTime: '2026-11-21T12:00:00Z' });

describe('Argo CD health check', () => {
  it.each([
    ['no status yet', {}, 'Progressing', 'waiting for the clinops operator'],
    ['an older generation observed', { status: { observedGeneration: 1, phase: 'Serving', conditions: [ready('True', 'AllReplicasReady', '2/2 replicas ready')] } }, 'Progressing', 'generation 2'],
    ['deploying', { status: { observedGeneration: 2, phase: 'Deploying', conditions: [ready('False', 'ReplicasNotReady', '0/2 replicas ready')] } }, 'Progressing', '0/2 replicas ready'],
    ['serving', { status: { observedGeneration: 2, phase: 'Serving', conditions: [ready('True', 'AllReplicasReady', '2/2 replicas ready')] } }, 'Healthy', '2/2 replicas ready'],
    ['serving at level 1', { status: { observedGeneration: 2, phase: 'Serving', conditions: [ready('True', 'AllReplicasReady', '2/2 replicas ready')],
      escalation: { level: 1, reason: 'moderate drift', reviewDueBy: '2026-11-23T12:00:00Z' } } }, 'Healthy', 'escalation level 1: moderate drift; review due by 2026-11-23T12:00:00Z'],
    ['paused at level 2', { status: { observedGeneration: 2, phase: 'Paused', conditions: [ready('False', 'Paused', 'escalation level 2')],
      escalation: { level: 2, reason: 'significant drift' } } }, 'Suspended', 'paused at escalation level 2: significant drift'],
    ['scaled to zero by hand', { status: { observedGeneration: 2, phase: 'Paused', conditions: [ready('False', 'ScaledToZero', 'spec.serving.replicas is 0')] } }, 'Suspended', 'spec.serving.replicas is 0'],
    ['shut down at level 3', { status: { observedGeneration: 2, phase: 'ShutDown', escalation: { level: 3, reason: 'patient-safety event INC-7', incident: { id: 'sepsis-20261121-120000' } } } },
      'Degraded', 'shut down at escalation level 3: patient-safety event INC-7 (incident sepsis-20261121-120000)'],
    ['some replicas ready', { status: { observedGeneration: 2, phase: 'Degraded', conditions: [ready('False', 'Unschedulable', '1/2 replicas ready; Insufficient nvidia.com/gpu')] } }, 'Degraded', 'Insufficient nvidia.com/gpu'],
    ['failed', { status: { observedGeneration: 2, phase: 'Failed', conditions: [ready('False', 'ApplyFailed', 'forbidden')] } }, 'Degraded', 'forbidden'],
    ['accepting a first version', { status: { observedGeneration: 2, phase: 'Accepting', conditions: [ready('False', 'Accepting', 'version 2.0.0 is being accepted; it serves once it passes')] } },
      'Progressing', 'is being accepted'],
    ['awaiting its go/no-go sign-off', { status: { observedGeneration: 2, phase: 'AwaitingApproval', conditions: [ready('False', 'AwaitingApproval', 'version 2.0.0 waits for its go/no-go sign-off: go-no-go unsigned')] } },
      'Progressing', 'go-no-go unsigned'],
    ['rejected with nothing accepted', { status: { observedGeneration: 2, phase: 'Rejected', conditions: [ready('False', 'Rejected', 'version 2.0.0 failed acceptance and no version has passed')] } },
      'Degraded', 'failed acceptance'],
    ['an update rejected while the accepted version serves', { status: { observedGeneration: 2, phase: 'Serving', conditions: [ready('True', 'AllReplicasReady', '2/2 replicas ready'),
      { type: 'Accepted', status: 'False', reason: 'Rejected', message: 'version 3.0.0 failed acceptance: auroc 0.61 < 0.85; version 2.0.0 keeps serving' }] } },
      'Healthy', 'version 2.0.0 keeps serving'],
    ['a new version in shadow beside the serving one', { status: { observedGeneration: 2, phase: 'Serving', conditions: [ready('True', 'AllReplicasReady', '2/2 replicas ready')],
      rollout: { step: 'Shadow', version: '2.1.0', message: 'in shadow: 40 of 200 predictions compared' } } },
      'Progressing', 'version 2.1.0 in shadow: in shadow: 40 of 200 predictions compared'],
    ['a canary', { status: { observedGeneration: 2, phase: 'Serving', conditions: [ready('True', 'AllReplicasReady', '2/2 replicas ready')], rollout: { step: 'Canary', version: '2.1.0' } } },
      'Progressing', 'version 2.1.0 in canary'],
    ['a rolled-back candidate while the version before serves', { status: { observedGeneration: 2, phase: 'Serving', rollout: { step: 'RolledBack', version: '2.1.0' },
      conditions: [ready('True', 'AllReplicasReady', '2/2 replicas ready'),
        { type: 'RolledOut', status: 'False', reason: 'RolledBack', message: 'version 2.1.0 rolled back in shadow: labels differ on 31% of 200 predictions (at most 10%); version 2.0.0 keeps serving' }] } },
      'Healthy', 'rolled back in shadow'],
  ])('%s', async (_name, extra, status, message) => {
    const hs = await health({ ...base, ...extra });
    expect(hs.status).toBe(status);
    expect(hs.message).toContain(message);
  });
});
