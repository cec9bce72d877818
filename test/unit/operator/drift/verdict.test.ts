import { driftLevel, signalVerdict } from '../../../../operator/drift/verdict.js';

const t = { minSamples: 200, psiModerate: 0.1, psiSignificant: 0.2, ksPValue: 0.05 };

describe('signalVerdict', () => {
  it.each([
    [{ samples: 199, psi: 5, ksPValue: 0 }, 'InsufficientData'],
    [{ samples: 200, psi: 0.05, ksPValue: 0.5 }, 'NoDrift'],
    [{ samples: 200, psi: 0.1, ksPValue: 0.5 }, 'Moderate'],
    [{ samples: 200, psi: 0.2, ksPValue: 0.5 }, 'Moderate'],
    [{ samples: 200, psi: 0.05, ksPValue: 0.049 }, 'Moderate'],
    [{ samples: 200, psi: 0.2001, ksPValue: 0.9 }, 'Significant'],
  ])('%j is %s', (s, v) => {
    expect(signalVerdict(s, t)).toBe(v);
  });
});

describe('driftLevel', () => {
  it('maps verdicts to levels', () => {
    expect(['NoDrift', 'InsufficientData', 'Moderate', 'Significant'].map((v) => driftLevel(v as never))).toEqual([0, 0, 1, 2]);
  });
});
