import { parseRelated, related, relatedType } from '../../../../inference-server/dicomweb/multipart.js';
import { ServerError } from '../../../../inference-server/errors.js';

const field = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return err instanceof ServerError ? `${err.status} ${err.field}: ${err.message}` : String(err);
  }
  return 'no error';
};

describe('multipart/related', () => {
  it('reads the boundary, quoted or not, and insists on application/dicom', () => {
    expect(relatedType('multipart/related; type="application/dicom"; boundary="a b"')).toEqual({ boundary: 'a b', type: 'application/dicom' });
    expect(relatedType('Multipart/Related; boundary=xyz')).toEqual({ boundary: 'xyz', type: 'application/dicom' });
    // Orthanc's: two UUIDs, 73 characters (RFC 2046 says at most 70).
    const orthanc = `${'8d053e36-9f2f-4d66-8373-6fd3c735910e'}-${'8d053e36-9f2f-4d66-8373-6fd3c735910e'}`;
    expect(relatedType(`multipart/related; type="application/dicom"; boundary=${orthanc}`).boundary).toBe(orthanc);
    expect(field(() => relatedType('multipart/related; type="application/dicom"'))).toMatch(/^400 content-type: .*no boundary/);
    expect(field(() => relatedType(`multipart/related; boundary=${'x'.repeat(201)}`))).toMatch(/^400 content-type/);
    expect(field(() => relatedType('multipart/related; type="application/dicom+json"; boundary=b'))).toMatch(/^415 content-type/);
    expect(field(() => relatedType('application/dicom'))).toMatch(/^415 content-type/);
  });

  it('splits what it writes back into the same parts, as views of the body', () => {
    const parts = [Buffer.from('first\r\n--not-a-boundary'), Buffer.alloc(0), Buffer.from([0, 1, 2, 255])];
    const { body, contentType } = related(parts);
    const { boundary } = relatedType(contentType);
    const read = parseRelated(body, boundary, 10);
    expect(read.map((p) => p.type)).toEqual(['application/dicom', 'application/dicom', 'application/dicom']);
    expect(read.map((p) => [...p.bytes])).toEqual(parts.map((p) => [...p]));
    expect(read[0]!.bytes.buffer).toBe(body.buffer);
  });

  it('refuses a body without its boundary, unclosed, with headers that never end, or with too many parts', () => {
    expect(field(() => parseRelated(Buffer.from('nothing here'), 'b', 4))).toMatch(/^400 body: .*never appears/);
    expect(field(() => parseRelated(Buffer.from('--b\r\nContent-Type: application/dicom\r\n\r\nxx'), 'b', 4))).toMatch(/^400 body: .*closing boundary/);
    expect(field(() => parseRelated(Buffer.from(`--b\r\n${'X-A: y\r\n'.repeat(2000)}`), 'b', 4))).toMatch(/^400 body: .*headers end nowhere/);
    const { body, contentType } = related([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
    expect(field(() => parseRelated(body, relatedType(contentType).boundary, 2))).toMatch(/^413 body: at most 2 instances/);
    expect(field(() => parseRelated(Buffer.from('--b--\r\n'), 'b', 2))).toMatch(/^400 body: .*no part/);
  });
});
