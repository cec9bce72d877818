import { parseModelUri } from '../../../../operator/desired/model-uri.js';

describe('parseModelUri', () => {
  it('splits pvc://claim/path', () => {
    expect(parseModelUri('pvc://models-claim/pneumonia/3/model.onnx')).toEqual({ kind: 'pvc', claim: 'models-claim', path: 'pneumonia/3/model.onnx' });
  });

  it('accepts https URLs', () => {
    expect(parseModelUri('https://models.example/a/b.onnx')).toEqual({ kind: 'https', url: 'https://models.example/a/b.onnx' });
  });

  it('splits s3://bucket/key', () => {
    expect(parseModelUri('s3://radiology-models/pneumonia/1.2.0/model.onnx')).toEqual({ kind: 's3', url: 's3://radiology-models/pneumonia/1.2.0/model.onnx', bucket: 'radiology-models', key: 'pneumonia/1.2.0/model.onnx' });
  });

  it.each([
    ['gs://bucket/model.onnx', 'must start with pvc://, https:// or s3://'],
    ['s3://Bucket/model.onnx', 'must start with'],
    ['s3://bucket/a/../b.onnx', '"." or ".." key segment'],
    ['pvc://claim/../etc/passwd', '".." path segment'],
    ['pvc://claim/a//b', 'empty or ".." path segment'],
    ['https://models.example/', 'names no file'],
  ])('rejects %s', (uri, why) => {
    expect(() => parseModelUri(uri)).toThrow(why);
  });
});
