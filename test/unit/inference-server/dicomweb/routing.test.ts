import type { InstanceHeader } from '../../../../inference-server/dicomweb/instance.js';
import { notAccepted } from '../../../../inference-server/dicomweb/routing.js';

const cr: InstanceHeader = { sopClassUid: '1.2.840.10008.5.1.4.1.1.1', sopInstanceUid: '1.2.3', studyUid: '1.2', seriesUid: '1.2.4', modality: 'CR', bodyPart: 'CHEST', seriesDescription: 'Chest PA erect' };

describe('accept rules', () => {
  it('takes everything when no property is listed', () => {
    expect(notAccepted({}, cr)).toBeUndefined();
  });

  it('matches each listed property (modality and body part in any case), naming the one missed', () => {
    expect(notAccepted({ modalities: ['cr', 'DX'], bodyParts: ['chest'] }, cr)).toBeUndefined();
    expect(notAccepted({ modalities: ['DX'] }, cr)).toBe('Modality CR is not one of DX');
    expect(notAccepted({ bodyParts: ['HEAD'] }, { ...cr, bodyPart: '' })).toBe('Body Part Examined (none) is not one of HEAD');
    expect(notAccepted({ sopClasses: ['1.2.840.10008.5.1.4.1.1.1.1'] }, cr)).toMatch(/^SOP Class 1\.2\.840\.10008\.5\.1\.4\.1\.1\.1 is not one of/);
  });

  it('matches series descriptions by patterns, never echoing the description', () => {
    expect(notAccepted({ seriesDescriptions: ['*pa*'] }, cr)).toBeUndefined();
    expect(notAccepted({ seriesDescriptions: ['Chest ?? erect'] }, cr)).toBeUndefined();
    expect(notAccepted({ seriesDescriptions: ['*lateral*', 'a.b'] }, cr)).toBe('Series Description matches none of the patterns');
    expect(notAccepted({ seriesDescriptions: ['(.*)+'] }, cr)).toBeDefined();
  });
});
