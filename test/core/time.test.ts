import { formatRelative, HOUR, isoSeconds, MINUTE } from '../../lambda/core/time';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const DAY = 24 * HOUR;

describe('times for people to read', () => {
  it('prints an instant to the second, without milliseconds', () => {
    expect(isoSeconds(Date.parse('2026-12-01T02:00:00.000Z'))).toBe('2026-12-01T02:00:00Z');
    expect(isoSeconds(Date.parse('2026-12-01T02:00:07.999Z'))).toBe('2026-12-01T02:00:07Z');
  });

  it.each([
    [2 * DAY + 4 * HOUR + 20 * MINUTE, 'in 2d4h'], // a day or more: to the hour
    [2 * DAY + 4 * HOUR + 40 * MINUTE, 'in 2d5h'],
    [DAY, 'in 1d'],
    [3 * HOUR + 5 * MINUTE, 'in 3h5m'], // less: to the minute
    [-3 * HOUR, '3h ago'],
    [-(2 * DAY + 12 * HOUR), '2d12h ago'],
    [-45 * MINUTE, '45m ago'],
    [20_000, 'now'],
    [-20_000, 'now'],
  ])('says %d ms from now as "%s"', (delta, text) => {
    expect(formatRelative(NOW + delta, NOW)).toBe(text);
  });
});
