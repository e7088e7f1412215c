/** File and flag handling for the CLI: every failure becomes one UsageError line, exit code 2. */
import { readFileSync } from 'node:fs';
import { type Config, ConfigError, parseConfig } from '../lambda/core/config';
import { parseInstanceTypes } from '../lambda/core/facts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export function readJson(path: string, flag: string): unknown {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new UsageError(`cannot read ${flag} ${path}: ${why}`);
  }
  const text = utf8Text(bytes, `${flag} ${path}`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${flag} ${path} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * The file's text, without a UTF-8 byte-order mark (Notepad and PowerShell's `Out-File -Encoding utf8`
 * write one). UTF-16, what Windows PowerShell 5's `>` writes, is refused by name rather than as bad JSON.
 */
export function utf8Text(bytes: Buffer, what: string): string {
  const [b0, b1] = bytes;
  if (bytes.length === 0 || /^\s*$/.test(bytes.toString('utf8')))
    throw new UsageError(`${what} is empty (did the command that wrote it fail?)`);
  // A BOM, or JSON's first ASCII character next to a NUL byte: UTF-16 (UTF-32 has two NULs more).
  const utf16 = (b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff) || (b0 === 0) !== (b1 === 0);
  if (utf16)
    throw new UsageError(
      `${what} is UTF-16; save it as UTF-8 (in Windows PowerShell: ... | Out-File -Encoding utf8 FILE)`,
    );
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function loadConfig(path: string | undefined): Config {
  const raw = path === undefined ? {} : readJson(path, '--config');
  try {
    return parseConfig(raw, path === undefined ? 'default config' : `config ${path}`);
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(.*)$/;
const ISO_OFFSET = /^(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

/**
 * `--now`: an ISO-8601 instant with an explicit offset. Date.parse alone would roll 2026-02-30 over to
 * March 2nd and read a time without an offset as the machine's local time, so both are refused, saying why.
 */
/** `--instance-types FILE` (describe-instance-types output): whether each type has instance store. */
export function readInstanceTypes(path: string | undefined): Map<string, boolean> | undefined {
  if (path === undefined) return undefined;
  try {
    return parseInstanceTypes(readJson(path, '--instance-types'));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--instance-types ${path}: ${(e as Error).message}`);
  }
}

export function parseNow(text: string | undefined, clock: () => number): number {
  if (text === undefined) return clock();
  const bad = (why: string) => new UsageError(`--now "${text}" ${why}`);
  const m = ISO_INSTANT.exec(text);
  if (!m) throw bad('is not an ISO-8601 time such as 2026-12-01T00:00:00Z');
  const offset = m[8] ?? '';
  if (offset === '')
    throw bad('has no UTC offset: end it with Z (UTC) or an offset such as +01:00 or -05:00');
  const off = ISO_OFFSET.exec(offset);
  if (!off) throw bad(`has the offset "${offset}": give Z or one such as +01:00`);
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = [1, 2, 3, 4, 5, 6].map((i) =>
    Number(m[i] ?? 0),
  );
  const offH = Number(off[2] ?? 0);
  const offM = Number(off[3] ?? 0);
  const impossible = impossibleField(year, month, day, hour, minute, second);
  if (impossible) throw bad(`is not a real time: ${impossible}`);
  if (offH > 23 || offM > 59) throw bad(`is not a real time: there is no offset ${offset}`);
  const offsetMs = (off[1] === '-' ? -1 : 1) * (offH * 60 + offM) * 60_000;
  const ms = Math.floor(Number(`0${m[7] ?? ''}`) * 1000);
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMs;
}

/** What makes a calendar date and time impossible (2026-02-30, hour 25), or undefined when it exists. */
function impossibleField(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): string | undefined {
  const two = (n: number) => String(n).padStart(2, '0');
  if (month < 1 || month > 12) return `there is no month ${two(month)} (01-12)`;
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > days)
    return `there is no day ${two(day)} in ${year}-${two(month)} (it has ${days} days)`;
  if (hour > 23) return `there is no hour ${two(hour)} (00-23)`;
  if (minute > 59) return `there is no minute ${two(minute)} (00-59)`;
  if (second > 59) return `there is no second ${two(second)} (00-59)`;
  return undefined;
}

export function parseIntFlag(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} "${text}" is not a whole number >= 0`);
  return n;
}
