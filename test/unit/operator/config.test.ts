import { Command } from 'commander';
import { addOptions } from '../../../contract/settings.js';
import { loadOperatorConfig, operatorSettings } from '../../../operator/config.js';

describe('loadOperatorConfig', () => {
  it('has production defaults and freezes the result', () => {
    const c = loadOperatorConfig({}, { HOSTNAME: 'op-0' });
    expect(c).toMatchObject({
      workers: 8, leaderElect: true, leaseNamespace: 'clinops-system', leaseName: 'clinops-operator',
      httpHost: '0.0.0.0', httpPort: 8081, resyncPeriodMs: 600_000, logLevel: 'info', namespace: undefined,
    });
    expect(c.identity).toMatch(/^op-0_[0-9a-f]{8}$/);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('takes flags over environment over defaults', () => {
    const env = { CLINOPS_WORKERS: '8', CLINOPS_LOG_LEVEL: 'debug', POD_NAMESPACE: 'ops', CLINOPS_LEADER_ELECT: 'false' };
    const c = loadOperatorConfig({ workers: '2' }, env);
    expect(c).toMatchObject({ workers: 2, logLevel: 'debug', leaseNamespace: 'ops', leaderElect: false });
    expect(loadOperatorConfig({ leaderElect: true }, env).leaderElect).toBe(true);
  });

  it('groups repeated model endpoints by model', () => {
    const c = loadOperatorConfig({ modelEndpoint: ['icu/sepsis=http://127.0.0.1:1/', 'icu/sepsis=http://127.0.0.1:2'] }, {});
    expect(c.modelEndpoints.get('icu/sepsis')).toEqual(['http://127.0.0.1:1', 'http://127.0.0.1:2']);
  });

  it.each([
    [{ workers: '0' }, '--workers (CLINOPS_WORKERS): "0" must be a whole number from 1 to 64'],
    [{ workers: 'many' }, '--workers'],
    [{ namespace: 'Not_A_Namespace' }, '--namespace (CLINOPS_WATCH_NAMESPACE): "Not_A_Namespace" must be a namespace name'],
    [{ httpAddress: 'localhost' }, '--http-address'],
    [{ resyncPeriod: '10 minutes' }, '--resync-period'],
    [{ resyncPeriod: '10ms' }, 'at least 1s'],
    [{ logLevel: 'chatty' }, '--log-level (CLINOPS_LOG_LEVEL): "chatty" must be one of debug, info, warn, error'],
    [{ serverImage: 'a b' }, '--server-image'],
    [{ modelEndpoint: ['nope'] }, '--model-endpoint'],
  ])('rejects %j naming the setting', (flags, setting) => {
    expect(() => loadOperatorConfig(flags, {})).toThrow(setting);
  });

  it('rejects a malformed CLINOPS_LEADER_ELECT', () => {
    expect(() => loadOperatorConfig({}, { CLINOPS_LEADER_ELECT: 'yes' })).toThrow('CLINOPS_LEADER_ELECT');
  });

  it('makes the CLI options from the same table', () => {
    const cmd = addOptions(new Command('operator'), operatorSettings());
    expect(cmd.options.map((o) => o.long)).toEqual(expect.arrayContaining(['--workers', '--no-leader-elect', '--model-endpoint', '--http-address']));
  });
});
