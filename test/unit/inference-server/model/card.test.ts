import { mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelCardSource } from '../../../../inference-server/model/card.js';

describe('the model card source', () => {
  it('is the inline card without a file', () => {
    expect(modelCardSource({ owner: 'a' }, undefined)()).toEqual({ owner: 'a' });
  });

  it('reads the file again when it changes, and keeps the last good card when it breaks', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'clinops-card-')), 'card.json');
    const card = modelCardSource({}, file);
    expect(card()).toEqual({});
    writeFileSync(file, JSON.stringify({ owner: 'ICU informatics' }));
    utimesSync(file, 1, 1);
    expect(card()).toEqual({ owner: 'ICU informatics' });
    writeFileSync(file, JSON.stringify({ owner: 'Sepsis AI team' }));
    utimesSync(file, 2, 2);
    expect(card()).toEqual({ owner: 'Sepsis AI team' });
    writeFileSync(file, '{"owner": 3}');
    utimesSync(file, 3, 3);
    expect(card()).toEqual({ owner: 'Sepsis AI team' });
  });
});
