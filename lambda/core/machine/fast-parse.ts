/**
 * A fast path for zod's parse of plain JSON data, compiled from the schema itself: it accepts only inputs
 * whose parse is plain (the right types, nothing odd) and builds exactly what zod would build from them (the
 * schema's keys in its order, unknown keys stripped, nothing shared with the input); anything else is
 * NOT_PLAIN, and the caller asks zod, which decides and names the error. zod allocates a result and an issue
 * list per field: on a large batch's state, loaded once per step, that was most of a step's time and garbage.
 *
 * Supported: object (stripping unknown keys), string, number (finite; `.int()` as safe integer), boolean,
 * enum, literal, array, tuple, record with string keys, optional. A schema using anything else compiles to
 * undefined: its callers then always use zod.
 */
import type { z } from 'zod';

export const NOT_PLAIN: unique symbol = Symbol('not plain');
export type FastParse<T> = (input: unknown) => T | typeof NOT_PLAIN;

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
    const parse = compile(schema as unknown as Schema);
    return (input) => {
      try {
        return parse(input) as z.output<S>;
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

function compile(schema: Schema): Parse {
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
      const values = valuesOf(schema);
      return (x) => (values.has(x) ? x : fail());
    }
    case 'optional': {
      noChecks(checks);
      const inner = compile(required(def.innerType));
      return (x) => (x === undefined ? undefined : inner(x));
    }
    case 'array':
      noChecks(checks);
      return compileArray(compile(required(def.element)));
    case 'tuple':
      noChecks(checks);
      return compileTuple(def);
    case 'record':
      noChecks(checks);
      return compileRecord(def);
    case 'object':
      noChecks(checks);
      return compileObject(def);
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

/** The very set an enum or literal schema checks against. */
function valuesOf(schema: Schema): ReadonlySet<unknown> {
  const values = schema._zod.values;
  if (values === undefined) throw new Unsupported(`${schema._zod.def.type} without values`);
  return values;
}

/** Whether a number schema is `.int()` (a safe integer); plain numbers are finite. */
function isInt(checks: NonNullable<Def['checks']>): boolean {
  if (checks.length === 0) return false;
  const [only, ...more] = checks.map((c) => c._zod.def);
  if (more.length > 0 || only?.check !== 'number_format' || only.format !== 'safeint')
    throw new Unsupported('number checks');
  return true;
}

function compileNumber(checks: NonNullable<Def['checks']>): Parse {
  if (isInt(checks)) return (x) => (Number.isSafeInteger(x) ? x : fail());
  return (x) => (typeof x === 'number' && Number.isFinite(x) ? x : fail());
}

function compileArray(element: Parse): Parse {
  return (x) => {
    if (!Array.isArray(x)) fail();
    const out: unknown[] = new Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = element(x[i]);
    return out;
  };
}

function compileTuple(def: Def): Parse {
  if (def.rest) throw new Unsupported('tuple rest');
  const items = (def.items ?? []).map((s) => {
    if (s._zod.def.type === 'optional') throw new Unsupported('optional tuple items');
    return compile(s);
  });
  return (x) => {
    if (!Array.isArray(x) || x.length !== items.length) fail();
    return items.map((item, i) => item(x[i]));
  };
}

/** Only plain objects (JSON's); a record's keys are checked apart. */
function isPlain(x: unknown): x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function compileRecord(def: Def): Parse {
  const keyDef = required(def.keyType)._zod.def;
  if (keyDef.type !== 'string' || (keyDef.checks?.length ?? 0) > 0 || keyDef.coerce)
    throw new Unsupported('record keys other than strings');
  const value = compile(required(def.valueType));
  return (x) => {
    if (!isPlain(x)) fail();
    const out: Record<string, unknown> = {};
    for (const key of Reflect.ownKeys(x)) {
      // No symbol, `__proto__` or non-enumerable key (zod skips them; leave them to it).
      if (
        typeof key !== 'string' ||
        key === '__proto__' ||
        !Object.prototype.propertyIsEnumerable.call(x, key)
      )
        fail();
      out[key] = value(x[key]);
    }
    return out;
  };
}

/**
 * The test a value of a simple schema (string, number, boolean, enum, literal, optional of those) passes, as a
 * JavaScript condition on `t` (`sets[i]` holds an enum's values); undefined for other schemas.
 */
function simpleTest(schema: Schema, i: number, sets: Array<ReadonlySet<unknown>>): string | undefined {
  const def = schema._zod.def;
  const checks = def.checks ?? [];
  if (def.coerce || (checks.length > 0 && def.type !== 'number')) return undefined;
  switch (def.type) {
    case 'optional': {
      const inner = simpleTest(required(def.innerType), i, sets);
      return inner === undefined ? undefined : `(t === undefined || ${inner})`;
    }
    case 'string':
      return "typeof t === 'string'";
    case 'boolean':
      return "typeof t === 'boolean'";
    case 'number':
      return isInt(checks) ? 'Number.isSafeInteger(t)' : "(typeof t === 'number' && Number.isFinite(t))";
    case 'enum':
    case 'literal':
      sets[i] = valuesOf(schema);
      return `sets[${i}].has(t)`;
    default:
      return undefined;
  }
}

/**
 * An object's parse, generated as straight-line code per field (as zod's own JIT does): a loop over the
 * fields reads every field through one megamorphic keyed load and call, several times slower on a large
 * state. A field key is in the code as a JSON string literal. A present key is kept even when its value is
 * undefined (an optional's), an absent optional one is left out, as zod does.
 */
function compileObject(def: Def): Parse {
  if (def.catchall !== undefined) throw new Unsupported('object catchall');
  const sets: Array<ReadonlySet<unknown>> = [];
  const fields = Object.entries(def.shape ?? {}).map(([key, s], i) => {
    if (key === '__proto__') throw new Unsupported('__proto__ field');
    return { key, optional: s._zod.def.type === 'optional', parse: compile(s), test: simpleTest(s, i, sets) };
  });
  const parsers = fields.map((f) => f.parse);
  const code = [
    'if (!isPlain(x)) fail();',
    'const out = {};',
    'let t;',
    ...fields.map((f, i) => {
      const k = JSON.stringify(f.key);
      const value = f.test === undefined ? `parsers[${i}](x[${k}])` : `(t = x[${k}], ${f.test}) ? t : fail()`;
      return `if (${k} in x) out[${k}] = ${value};${f.optional ? '' : ' else fail();'}`;
    }),
    'return out;',
  ].join('\n');
  const make = new Function(
    'isPlain',
    'fail',
    'parsers',
    'sets',
    `return function parseObject(x) {\n${code}\n};`,
  );
  return (make as (...deps: unknown[]) => Parse)(isPlain, fail, parsers, sets);
}
