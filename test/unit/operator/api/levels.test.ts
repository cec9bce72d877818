import { levelPolicy, phaseAtLevel, replicasAtLevel } from '../../../../operator/api/levels.js';

describe('escalation actions', () => {
  it('defaults to Alert, Pause and Shutdown for levels 1, 2 and 3', () => {
    expect([1, 2, 3].map((l) => levelPolicy(undefined, l)?.action)).toEqual(['Alert', 'Pause', 'Shutdown']);
    expect(levelPolicy(undefined, 0)).toBeUndefined();
  });

  it('keeps, caps or zeroes the replicas', () => {
    expect(replicasAtLevel(3, 0, undefined)).toBe(3);
    expect(replicasAtLevel(3, 1, undefined)).toBe(3);
    expect(replicasAtLevel(3, 2, undefined)).toBe(0);
    expect(replicasAtLevel(3, 3, undefined)).toBe(0);
    // A model that takes studies from a PACS keeps one replica while paused (held), none when shut down.
    expect(replicasAtLevel(3, 2, undefined, true)).toBe(1);
    expect(replicasAtLevel(0, 2, undefined, true)).toBe(0);
    expect(replicasAtLevel(3, 3, undefined, true)).toBe(0);
    expect(replicasAtLevel(3, 1, { level1: { action: 'ScaleDown', replicas: 1 } })).toBe(1);
    expect(replicasAtLevel(1, 1, { level1: { action: 'ScaleDown', replicas: 2 } })).toBe(1);
    expect(replicasAtLevel(3, 2, { level2: { action: 'Alert' } })).toBe(3);
  });

  it('imposes Paused or ShutDown', () => {
    expect(phaseAtLevel(2, undefined)).toBe('Paused');
    expect(phaseAtLevel(3, undefined)).toBe('ShutDown');
    expect(phaseAtLevel(1, undefined)).toBeUndefined();
    expect(phaseAtLevel(1, { level1: { action: 'Pause' } })).toBe('Paused');
  });
});
