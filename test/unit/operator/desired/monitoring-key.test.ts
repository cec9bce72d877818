import { desiredMonitoringSecret, monitoringKeyOf } from '../../../../operator/desired/monitoring-key.js';
import { clinicalModel } from '../fixtures.js';

it('keeps the monitoring key in a Secret owned by the model, and reads back only a usable key', () => {
  const s = desiredMonitoringSecret(clinicalModel(), 'k'.repeat(43)) as { metadata: { name: string; ownerReferences: Array<{ uid: string }> }; data: { key: string } };
  expect(s.metadata.name).toBe('pneumonia-cxr-monitoring');
  expect(s.metadata.ownerReferences[0]!.uid).toBe('uid-1');
  expect(monitoringKeyOf(s)).toBe('k'.repeat(43));
  expect(monitoringKeyOf({ data: { key: Buffer.from(' short \n').toString('base64') } })).toBeUndefined();
  expect(monitoringKeyOf({ data: {} })).toBeUndefined();
  expect(monitoringKeyOf(undefined)).toBeUndefined();
});
