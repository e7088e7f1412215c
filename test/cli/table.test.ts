import { paragraph, shorten, table, wrapLines } from '../../cli/table';

describe('text within 120 columns', () => {
  it('pads columns, leaves the last unpadded, and prints string rows as headings between the rows', () => {
    expect(table(['A', 'BB', 'C'], ['heading', ['x', 'y', 'z'], ['xx', '', 'w']])).toBe(
      ['A   BB  C', 'heading', 'x   y   z', 'xx      w'].join('\n'),
    );
  });

  it('wraps the last column under itself and shortens the columns allowed to, keeping both ends', () => {
    const reason = 'word '.repeat(30).trim();
    const text = table(['ID', 'NAME', 'REASON'], [['i-1', `start-${'x'.repeat(40)}-end`, reason]], {
      width: 60,
      shrink: [1],
      wrapLast: true,
    });
    const lines = text.split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    expect(lines[1]).toMatch(/^i-1 {2}start-x*…x*-end {2}word word/);
    const column = (lines[1] ?? '').indexOf('word');
    expect(lines.slice(2).every((l) => l.indexOf('word') === column)).toBe(true);
    expect(lines.slice(1).join(' ').match(/word/g)).toHaveLength(30);
  });

  it('cuts the middle of a long cell', () => {
    expect(shorten('abcdefghij', 5)).toBe('ab…ij');
    expect(shorten('abc', 5)).toBe('abc');
  });

  it('wraps prose, indenting continuations, and keeps a line’s own indentation', () => {
    expect(paragraph('aaa bbb ccc ddd', '', '  ', 8)).toBe('aaa bbb\n  ccc\n  ddd');
    expect(wrapLines('short\n  one two three four', 12)).toBe('short\n  one two\n    three\n    four');
  });
});
