import { parseConfig } from '../../lambda/core/config';
import { localSpan, WindowCalendar, windowZoneAt } from '../../lambda/core/windows';

const at = (s: string) => Date.parse(s);
const cal = (windows: unknown[], from = '2026-03-01T00:00:00Z', to = '2026-11-30T00:00:00Z') =>
  new WindowCalendar(parseConfig({ windows }).windows, at(from), at(to));

describe('WindowCalendar', () => {
  it('is always open without windows', () => {
    const c = cal([]);
    expect(c.contains(at('2026-06-01T12:34:00Z'))).toBe(true);
    expect(c.nextOpen(123)).toBe(123);
  });

  it('follows the zone through DST: 02:00-05:00 Berlin is 01:00Z in winter and 00:00Z in summer', () => {
    const c = cal([{ days: ['TUE'], start: '02:00', end: '05:00', timeZone: 'Europe/Berlin' }]);
    expect(new Date(c.nextOpen(at('2026-03-20T00:00:00Z'))).toISOString()).toBe('2026-03-24T01:00:00.000Z');
    expect(new Date(c.nextOpen(at('2026-03-30T00:00:00Z'))).toISOString()).toBe('2026-03-31T00:00:00.000Z');
    expect(c.contains(at('2026-03-31T02:59:00Z'))).toBe(true);
    expect(c.contains(at('2026-03-31T03:00:00Z'))).toBe(false);
  });

  it('moves a start that falls in a spring-forward gap to the first valid local time', () => {
    // 29 March 2026: Berlin clocks jump from 02:00 to 03:00.
    const c = cal([{ days: ['SUN'], start: '02:30', end: '04:00', timeZone: 'Europe/Berlin' }]);
    expect(new Date(c.nextOpen(at('2026-03-28T00:00:00Z'))).toISOString()).toBe('2026-03-29T01:30:00.000Z');
  });

  it('runs a window past midnight into the next day', () => {
    const c = cal([{ days: ['FRI'], start: '22:00', end: '02:00', timeZone: 'UTC' }]);
    expect(c.contains(at('2026-06-06T01:59:00Z'))).toBe(true); // Saturday 01:59, Friday's window
    expect(c.contains(at('2026-06-06T02:00:00Z'))).toBe(false);
    expect(c.contains(at('2026-06-05T21:59:00Z'))).toBe(false);
  });

  it('finds the start of the latest window in a span', () => {
    const c = cal([{ days: ['MON', 'WED'], start: '10:00', end: '12:00', timeZone: 'UTC' }]);
    expect(
      new Date(
        c.latestWindowStartIn(at('2026-06-01T00:00:00Z'), at('2026-06-05T00:00:00Z')) ?? 0,
      ).toISOString(),
    ).toBe('2026-06-03T10:00:00.000Z');
    expect(
      new Date(
        c.latestWindowStartIn(at('2026-06-03T11:00:00Z'), at('2026-06-05T00:00:00Z')) ?? 0,
      ).toISOString(),
    ).toBe('2026-06-03T11:00:00.000Z');
    expect(c.latestWindowStartIn(at('2026-06-03T12:00:00Z'), at('2026-06-08T09:00:00Z'))).toBeUndefined();
  });
});

describe('showing times in a window’s zone', () => {
  const windows = (...w: unknown[]) => parseConfig({ windows: w }).windows;
  const berlin = { days: ['TUE'], start: '02:00', end: '05:00', timeZone: 'Europe/Berlin' };
  const tokyo = { days: ['WED'], start: '22:00', end: '02:00', timeZone: 'Asia/Tokyo' };

  it('takes the zone of the window that holds the instant, else the one zone all windows share', () => {
    expect(windowZoneAt(windows(berlin, tokyo), at('2026-12-01T01:30:00Z'))).toBe('Europe/Berlin');
    expect(windowZoneAt(windows(berlin, tokyo), at('2026-12-02T14:00:00Z'))).toBe('Asia/Tokyo'); // 23:00 JST
    expect(windowZoneAt(windows(berlin, tokyo), at('2026-12-05T12:00:00Z'))).toBeUndefined(); // in neither
    expect(windowZoneAt(windows(berlin), at('2026-12-05T12:00:00Z'))).toBe('Europe/Berlin');
    expect(windowZoneAt([], at('2026-12-05T12:00:00Z'))).toBeUndefined();
  });

  it('says the weekday, and the weekday again when the span crosses local midnight', () => {
    expect(localSpan(at('2026-12-01T01:00:00Z'), at('2026-12-01T01:20:00Z'), 'Europe/Berlin')).toBe(
      'Tue 02:00-02:20',
    );
    expect(localSpan(at('2026-12-02T14:50:00Z'), at('2026-12-02T15:10:00Z'), 'Asia/Tokyo')).toBe(
      'Wed 23:50-Thu 00:10',
    );
  });
});
