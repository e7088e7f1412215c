/** Text tables and prose for a terminal of 120 columns. */

export const WIDTH = 120;
const GAP = '  ';
/** The narrowest a wrapped last column gets before other columns are cut short instead. */
const MIN_WRAPPED = 30;

export interface TableOptions {
  /** Columns that may be cut short (the middle replaced by `…`) when the table is too wide. */
  readonly shrink?: readonly number[];
  /** Wrap the last column onto continuation lines rather than make the table wider than `width`. */
  readonly wrapLast?: boolean;
  readonly width?: number;
}

/**
 * Left-aligned text columns; the last column is not padded. A row given as a string is a heading printed
 * as it is, between the rows (it does not count toward the widths). No line is wider than `width` unless
 * the columns that may neither shrink nor wrap are wider by themselves.
 */
export function table(
  header: readonly string[],
  rows: readonly (readonly string[] | string)[],
  opts: TableOptions = {},
): string {
  const cells = rows.filter((r): r is readonly string[] => typeof r !== 'string');
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const last = header.length - 1;
  const width = opts.width ?? WIDTH;
  const others = () => widths.slice(0, last).reduce((a, b) => a + b + GAP.length, 0);
  if (opts.wrapLast) {
    shrinkColumns(
      widths,
      header,
      (opts.shrink ?? []).filter((i) => i !== last),
      others() + MIN_WRAPPED - width,
    );
    widths[last] = Math.min(widths[last] ?? 0, Math.max(MIN_WRAPPED, width - others()));
  } else {
    shrinkColumns(widths, header, opts.shrink ?? [], others() + (widths[last] ?? 0) - width);
  }
  const render = (row: readonly string[]): string[] => {
    const lastLines = opts.wrapLast ? wrapText(row[last] ?? '', widths[last] ?? 0) : [row[last] ?? ''];
    return lastLines.map((tail, k) =>
      [
        ...row
          .slice(0, last)
          .map((c, i) => (k === 0 ? shorten(c, widths[i] ?? 0) : '').padEnd(widths[i] ?? 0)),
        shorten(tail, widths[last] ?? 0),
      ]
        .join(GAP)
        .trimEnd(),
    );
  };
  return [header, ...rows].flatMap((r) => (typeof r === 'string' ? [r] : render(r))).join('\n');
}

/** Narrows the widest shrinkable column, one character at a time, until `excess` is gone or none can. */
function shrinkColumns(
  widths: number[],
  header: readonly string[],
  shrink: readonly number[],
  excess: number,
) {
  for (let left = excess; left > 0; left--) {
    let widest: number | undefined;
    for (const i of shrink) {
      const min = Math.max(header[i]?.length ?? 0, 8);
      if ((widths[i] ?? 0) > min && (widest === undefined || (widths[i] ?? 0) > (widths[widest] ?? 0)))
        widest = i;
    }
    if (widest === undefined) return;
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
}

/** The text cut to `width` with its middle replaced by `…`, keeping both ends (ids and names differ there). */
export function shorten(text: string, width: number): string {
  if (text.length <= width) return text;
  const head = Math.ceil((width - 1) / 2);
  return `${text.slice(0, head)}…${text.slice(text.length - (width - 1 - head))}`;
}

/** Words into lines of at most `width` characters; a word longer than that is split. */
export function wrapText(text: string, columns: number): string[] {
  const width = Math.max(1, columns);
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(' ')) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = '';
    }
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(line);
  return lines;
}

/** A paragraph wrapped to `width`: its first line starts with `first`, the others with `rest` (spaces, say). */
export function paragraph(text: string, first = '', rest = '  ', width = WIDTH): string {
  const [head = '', ...more] = wrapText(text, width - first.length);
  const tail = more.length === 0 ? [] : wrapText(more.join(' '), width - rest.length);
  return [`${first}${head}`, ...tail.map((l) => `${rest}${l}`)].join('\n');
}

/** Each line of `text` within `width`: a longer one wraps, its continuations indented 2 more than it. */
export function wrapLines(text: string, width = WIDTH): string {
  return text
    .split('\n')
    .map((line) => {
      if (line.length <= width) return line;
      const indent = /^ */.exec(line)?.[0] ?? '';
      return paragraph(line.slice(indent.length), indent, `${indent}  `, width);
    })
    .join('\n');
}
