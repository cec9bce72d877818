import { desiredService, serviceEndpoint } from '../../../../operator/desired/service.js';
import { clinicalModel } from '../fixtures.js';

describe('desiredService', () => {
  it('exposes port 8080 for the model pods', () => {
    const s = desiredService(clinicalModel());
    expect(s.spec).toEqual({
      type: 'ClusterIP',
      selector: { 'app.kubernetes.io/name': 'clinops-model', 'app.kubernetes.io/instance': 'pneumonia-cxr' },
      ports: [{ name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' }],
    });
    expect(s.metadata.ownerReferences[0]).toMatchObject({ kind: 'ClinicalModel', controller: true });
  });

  it('reports the in-cluster endpoint', () => {
    expect(serviceEndpoint(clinicalModel())).toBe('http://pneumonia-cxr.radiology.svc:8080');
  });

  it('names its port https, and the endpoint https, when the model serves TLS', () => {
    const cr = clinicalModel({ serving: { tls: { secretRef: { name: 'cxr-cert' } } } });
    expect((desiredService(cr).spec.ports as unknown[])[0]).toEqual({ name: 'https', port: 8080, targetPort: 'http', protocol: 'TCP', appProtocol: 'https' });
    expect(serviceEndpoint(cr)).toBe('https://pneumonia-cxr.radiology.svc:8080');
  });
});
