import { parseDuration } from '../../../../operator/util/duration.js';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['48h', 172_800_000],
    ['1h30m', 5_400_000],
    ['90d', 7_776_000_000],
  ])('%s is %d ms', (s, ms) => {
    expect(parseDuration(s)).toBe(ms);
  });

  it.each(['', '5', 'm', '5 m', '1w', '-5m', '5m!'])('rejects %j with a message naming it', (s) => {
    expect(() => parseDuration(s)).toThrow(`"${s}" is not a duration`);
  });
});
