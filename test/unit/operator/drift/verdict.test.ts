import { driftLevel, signalVerdict } from '../../../../operator/drift/verdict.js';

const t = { minSamples: 200, psiModerate: 0.1, psiSignificant: 0.2, ksPValue: 0.05, ksMinStatistic: 0.1 };

describe('signalVerdict', () => {
  it.each([
    [{ samples: 199, psi: 5, ksPValue: 0, ksStatistic: 1 }, 'InsufficientData'],
    [{ samples: 200, psi: 0.05, ksPValue: 0.5, ksStatistic: 0.05 }, 'NoDrift'],
    [{ samples: 200, psi: 0.1, ksPValue: 0.5, ksStatistic: 0.05 }, 'Moderate'],
    [{ samples: 200, psi: 0.2, ksPValue: 0.5, ksStatistic: 0.05 }, 'Moderate'],
    [{ samples: 200, psi: 0.05, ksPValue: 0.049, ksStatistic: 0.12 }, 'Moderate'],
    // Significant but too small to matter: 20,000 predictions per side shifted by 0.02 SD give p ≈ 0.05 at D ≈ 0.014.
    [{ samples: 20000, psi: 0.002, ksPValue: 0.01, ksStatistic: 0.014 }, 'NoDrift'],
    [{ samples: 200, psi: 0.2001, ksPValue: 0.9, ksStatistic: 0.05 }, 'Significant'],
  ])('%j is %s', (s, v) => {
    expect(signalVerdict(s, t)).toBe(v);
  });
});

describe('driftLevel', () => {
  it('maps verdicts to levels', () => {
    expect(['NoDrift', 'InsufficientData', 'Moderate', 'Significant'].map((v) => driftLevel(v as never))).toEqual([0, 0, 1, 2]);
  });
});
