import { Router } from '../../../../inference-server/http/router.js';

const r = new Router<string>()
  .add('GET', '/health', 'health')
  .add('GET', '/v2/models/:model', 'metadata')
  .add('GET', '/v2/models/:model/versions/:version', 'versioned')
  .add('POST', '/v2/models/:model/infer', 'infer');

it('matches segment by segment, decoding parameters', () => {
  expect(r.match('GET', '/v2/models/sepsis%2Dv2')).toMatchObject({ kind: 'found', route: { handler: 'metadata' }, params: { model: 'sepsis-v2' } });
  expect(r.match('GET', '/v2/models/s/versions/1.0.0')).toMatchObject({ params: { model: 's', version: '1.0.0' } });
  expect(r.match('HEAD', '/health')).toMatchObject({ kind: 'found', route: { handler: 'health' } });
});

it('tells a wrong method (with the methods the path has) from no route at all', () => {
  expect(r.match('GET', '/v2/models/s/infer')).toEqual({ kind: 'wrong-method', pattern: '/v2/models/:model/infer', allow: 'POST' });
  expect(r.match('GET', '/v2/models/s/extra/x')).toEqual({ kind: 'none' });
  expect(r.match('GET', '/v2/models/')).toEqual({ kind: 'none' });
});

it('refuses malformed percent-encoding as a bad request naming the path', () => {
  expect(() => r.match('GET', '/v2/models/%E0%A4%A')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST', field: 'path' }));
});
