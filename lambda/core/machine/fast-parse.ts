/**
 * A fast path for zod's parse of plain JSON data, compiled from the schema itself: it accepts only inputs
 * whose parse is plain (the right types, nothing odd) and builds exactly what zod would build from them (the
 * schema's keys in its order, unknown keys stripped); anything else is NOT_PLAIN, and the caller asks zod,
 * which decides and names the error. zod allocates a result and an issue list per field: on a large batch's
 * state, loaded once per step, that was most of a step's time and garbage.
 *
 * With `owned` (for input fresh from JSON.parse that nobody else holds), the result reuses the input's own
 * objects and arrays wherever they already are what zod would build (same keys in the schema's order): only
 * what differs is copied. Without it the result shares nothing with the input, as zod's.
 *
 * Supported: object (stripping unknown keys), string, number (finite; `.int()` as safe integer), boolean,
 * enum, literal, array, tuple, record with string keys, optional. A schema using anything else compiles to
 * undefined: its callers then always use zod.
 */
import type { z } from 'zod';

export const NOT_PLAIN: unique symbol = Symbol('not plain');
export type FastParse<T> = (input: unknown, owned?: boolean) => T | typeof NOT_PLAIN;

type Parse = (input: unknown) => unknown;

/** The parts of a zod (v4) schema definition read here. */
interface Def {
  readonly type: string;
  readonly checks?: ReadonlyArray<{ readonly _zod: { readonly def: { check?: string; format?: string } } }>;
  readonly shape?: Readonly<Record<string, Schema>>;
  readonly catchall?: unknown;
  readonly element?: Schema;
  readonly items?: readonly Schema[];
  readonly rest?: unknown;
  readonly keyType?: Schema;
  readonly valueType?: Schema;
  readonly innerType?: Schema;
  readonly coerce?: boolean;
}

interface Schema {
  readonly _zod: { readonly def: Def; readonly values?: ReadonlySet<unknown> };
}

class Unsupported extends Error {}

export function compileFastParse<S extends z.ZodType>(schema: S): FastParse<z.output<S>> | undefined {
  try {
    const copy = compile(schema as unknown as Schema, false);
    const adopt = compile(schema as unknown as Schema, true);
    return (input, owned = false) => {
      try {
        return (owned ? adopt : copy)(input) as z.output<S>;
      } catch (e) {
        if (e === NOT_PLAIN) return NOT_PLAIN;
        throw e;
      }
    };
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

function fail(): never {
  throw NOT_PLAIN;
}

function compile(schema: Schema, adopt: boolean): Parse {
  const def = schema._zod.def;
  if (def.coerce) throw new Unsupported('coerce');
  const checks = def.checks ?? [];
  switch (def.type) {
    case 'string':
      noChecks(checks);
      return (x) => (typeof x === 'string' ? x : fail());
    case 'boolean':
      noChecks(checks);
      return (x) => (typeof x === 'boolean' ? x : fail());
    case 'number':
      return compileNumber(checks);
    case 'enum':
    case 'literal': {
      noChecks(checks);
      // The very set zod checks against.
      const values = schema._zod.values;
      if (values === undefined) throw new Unsupported(`${def.type} without values`);
      return (x) => (values.has(x) ? x : fail());
    }
    case 'optional': {
      noChecks(checks);
      const inner = compile(required(def.innerType), adopt);
      return (x) => (x === undefined ? undefined : inner(x));
    }
    case 'array':
      noChecks(checks);
      return compileArray(compile(required(def.element), adopt), adopt);
    case 'tuple':
      noChecks(checks);
      return compileTuple(def, adopt);
    case 'record':
      noChecks(checks);
      return compileRecord(def, adopt);
    case 'object':
      noChecks(checks);
      return compileObject(def, adopt);
    default:
      throw new Unsupported(def.type);
  }
}

function required(s: Schema | undefined): Schema {
  if (s === undefined) throw new Unsupported('a schema without its parts');
  return s;
}

function noChecks(checks: readonly unknown[]): void {
  if (checks.length > 0) throw new Unsupported('checks');
}

function compileNumber(checks: NonNullable<Def['checks']>): Parse {
  const formats = checks.map((c) => c._zod.def);
  if (formats.length === 0) return (x) => (typeof x === 'number' && Number.isFinite(x) ? x : fail());
  const [only, ...more] = formats;
  if (more.length > 0 || only?.check !== 'number_format' || only.format !== 'safeint')
    throw new Unsupported('number checks');
  return (x) => (Number.isSafeInteger(x) ? x : fail());
}

function compileArray(element: Parse, adopt: boolean): Parse {
  return (x) => {
    if (!Array.isArray(x)) fail();
    if (!adopt) {
      const out: unknown[] = new Array(x.length);
      for (let i = 0; i < x.length; i++) out[i] = element(x[i]);
      return out;
    }
    let out: unknown[] | undefined;
    for (let i = 0; i < x.length; i++) {
      const v = element(x[i]);
      if (out) out[i] = v;
      else if (v !== x[i]) {
        out = x.slice(0, i);
        out[i] = v;
      }
    }
    return out ?? x;
  };
}

function compileTuple(def: Def, adopt: boolean): Parse {
  if (def.rest) throw new Unsupported('tuple rest');
  const items = (def.items ?? []).map((s) => {
    if (s._zod.def.type === 'optional') throw new Unsupported('optional tuple items');
    return compile(s, adopt);
  });
  return (x) => {
    if (!Array.isArray(x) || x.length !== items.length) fail();
    const out = items.map((item, i) => item(x[i]));
    return adopt && out.every((v, i) => v === x[i]) ? x : out;
  };
}

/** Only plain objects (JSON's) with plain keys: no `__proto__`, symbol or non-enumerable key. */
function isPlain(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function compileRecord(def: Def, adopt: boolean): Parse {
  const keyDef = required(def.keyType)._zod.def;
  if (keyDef.type !== 'string' || (keyDef.checks?.length ?? 0) > 0 || keyDef.coerce)
    throw new Unsupported('record keys other than strings');
  const value = compile(required(def.valueType), adopt);
  return (x) => {
    if (!isPlain(x)) fail();
    const out: Record<string, unknown> = {};
    let same = adopt;
    for (const key of Reflect.ownKeys(x)) {
      if (
        typeof key !== 'string' ||
        key === '__proto__' ||
        !Object.prototype.propertyIsEnumerable.call(x, key)
      )
        fail();
      out[key] = value(x[key]);
      same &&= out[key] === x[key];
    }
    return same ? x : out;
  };
}

interface Field {
  readonly key: string;
  readonly optional: boolean;
  readonly parse: Parse;
}

function compileObject(def: Def, adopt: boolean): Parse {
  if (def.catchall !== undefined) throw new Unsupported('object catchall');
  const fields: Field[] = Object.entries(def.shape ?? {}).map(([key, s]) => {
    if (key === '__proto__') throw new Unsupported('__proto__ field');
    return { key, optional: s._zod.def.type === 'optional', parse: compile(s, adopt) };
  });
  return (x) => {
    if (!isPlain(x)) fail();
    // Owned input already in the schema's key order, without unknown keys, is kept unless a value differs.
    let out: Record<string, unknown> | undefined = adopt && inOrder(x, fields) ? undefined : {};
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i] as Field;
      if (!(f.key in x)) {
        if (f.optional) continue;
        fail();
      }
      const v = f.parse(x[f.key]);
      if (out === undefined && v !== x[f.key]) out = presentBefore(x, fields, i);
      if (out !== undefined) out[f.key] = v;
    }
    return out ?? x;
  };
}

/** Whether the object's own keys are some of the fields, in their order (no unknown key, none out of place). */
function inOrder(x: Record<string, unknown>, fields: readonly Field[]): boolean {
  let j = 0;
  for (const key in x) {
    if (!Object.hasOwn(x, key)) return false;
    while (j < fields.length && fields[j]?.key !== key) j++;
    if (j === fields.length) return false;
    j++;
  }
  return true;
}

/** A new object with the fields before `end` that the input has (their values are the input's own). */
function presentBefore(
  x: Record<string, unknown>,
  fields: readonly Field[],
  end: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields.slice(0, end)) if (f.key in x) out[f.key] = x[f.key];
  return out;
}
