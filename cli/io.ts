/** File and flag handling for the CLI: every failure becomes one UsageError line, exit code 2. */
import { readFileSync } from 'node:fs';
import { type Config, ConfigError, parseConfig } from '../lambda/core/config';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export function readJson(path: string, flag: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message;
    throw new UsageError(`cannot read ${flag} ${path}: ${why}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${flag} ${path} is not valid JSON: ${(e as Error).message}`);
  }
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

export function parseNow(text: string | undefined, clock: () => number): number {
  if (text === undefined) return clock();
  const t = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(t)) {
    throw new UsageError(`--now "${text}" is not an ISO-8601 time such as 2026-12-01T00:00:00Z`);
  }
  return t;
}

export function parseIntFlag(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} "${text}" is not a whole number >= 0`);
  return n;
}
