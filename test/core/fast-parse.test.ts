/** The state's fast parse builds exactly what zod builds, or leaves the input to zod (fast-parse.ts). */
import fc from 'fast-check';
import { z } from 'zod';
import { parseConfig } from '../../lambda/core/config';
import { compileFastParse, NOT_PLAIN } from '../../lambda/core/machine/fast-parse';
import { fastParse, parseRolloutState, rolloutStateSchema } from '../../lambda/core/machine/state';
import { bigSteps } from '../contract/big-rollout';

const config = parseConfig({ dryRun: false });
const states = bigSteps(30, config).map((s) => JSON.parse(JSON.stringify(s.state)) as unknown);

/** Structure, values and key order (undefined values included), as a string. */
function shape(x: unknown): string {
  if (x === undefined) return 'undefined';
  if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
  if (typeof x !== 'object' || x === null) return JSON.stringify(x);
  if (Array.isArray(x)) return `[${x.map(shape).join(',')}]`;
  const proto = Object.getPrototypeOf(x) === Object.prototype ? '' : 'proto!';
  return `${proto}{${Reflect.ownKeys(x)
    .map((k) => `${String(k)}:${shape((x as Record<string | symbol, unknown>)[k])}`)
    .join(',')}}`;
}

/** What zod says: the parsed shape, or that it refused. */
function zodSays(input: unknown): string {
  const r = rolloutStateSchema.safeParse(input);
  return r.success ? shape(r.data) : 'refused';
}

function ours(input: unknown): string {
  try {
    return shape(parseRolloutState(input));
  } catch {
    return 'refused';
  }
}

/** Every container in a state with each of its keys: the places a mutation can hit. */
function places(x: unknown, out: Array<[Record<string, unknown>, string]> = []): typeof out {
  if (typeof x !== 'object' || x === null) return out;
  for (const key of Object.keys(x)) {
    out.push([x as Record<string, unknown>, key]);
    places((x as Record<string, unknown>)[key], out);
  }
  return out;
}

const odd = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 4 },
  fc.constantFrom(null, Number.NaN, Number.POSITIVE_INFINITY, -0, 1.5, 2 ** 60, '', 'x', true),
  fc.constantFrom('pending', 'running', 'reboot-migrate', 1, [], {}, [1, 2, 3], [1, 2], { a: 1 }),
);
const mutation = fc.record({
  at: fc.nat(),
  action: fc.constantFrom('set', 'set', 'delete', 'extra', 'proto', 'symbol', 'hidden'),
  value: odd,
  base: fc.constantFrom(...states.keys()),
});

/** A copy of a state with the value at one place replaced or deleted, or its container given an odd key. */
function mutate(m: { at: number; action: string; value: unknown; base: number }): unknown {
  const root = JSON.parse(JSON.stringify(states[m.base])) as unknown;
  const all = places(root);
  const [node, key] = all[m.at % all.length] ?? [{}, 'none'];
  if (m.action === 'set') node[key] = m.value;
  else if (m.action === 'delete') delete node[key];
  else if (m.action === 'extra') node.unknownKey = m.value;
  else if (m.action === 'proto')
    Object.defineProperty(node, '__proto__', { value: m.value, enumerable: true });
  else if (m.action === 'symbol') (node as Record<symbol, unknown>)[Symbol('s')] = m.value;
  else Object.defineProperty(node, 'hiddenKey', { value: m.value, enumerable: false });
  return root;
}

describe('fast parse of stored state', () => {
  it('covers the state schema (a schema change it cannot follow would silently make loads slow)', () => {
    expect(fastParse).toBeDefined();
  });

  it('builds what zod builds from real states: schema key order, unknown keys stripped', () => {
    for (const s of states) {
      const withExtra = JSON.parse(JSON.stringify({ zzz: 1, ...(s as object) }));
      const item = withExtra.current?.items?.[0];
      if (item) item.extra = { nested: true };
      for (const input of [s, withExtra]) {
        expect(fastParse?.(input)).not.toBe(NOT_PLAIN);
        expect(ours(input)).toBe(zodSays(input));
      }
    }
  });

  it('agrees with zod on damaged states: the same result, or both refuse', () => {
    fc.assert(
      fc.property(mutation, (m) => {
        const input = mutate(m);
        expect(ours(input)).toBe(zodSays(input));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with zod on the subtle cases: undefined optionals, odd record keys, tuple lengths, numbers', () => {
    const base = () =>
      JSON.parse(JSON.stringify(states[1])) as Record<string, unknown> & {
        current: { items: Array<Record<string, unknown>> };
        limits: Record<string, unknown>;
        slots: unknown[][];
      };
    const cases: Array<(s: ReturnType<typeof base>) => void> = [
      (s) => {
        (s.current.items[0] as Record<string, unknown>).slot = undefined;
      },
      (s) => {
        s.current = undefined as never;
      },
      (s) => {
        (s.current.items[0] as Record<string, unknown>).slot = null;
      },
      (s) => {
        (s.current.items[0] as Record<string, unknown>).reason = 3;
      },
      (s) => {
        Object.defineProperty(s.limits, '__proto__', { value: 3, enumerable: true });
      },
      (s) => {
        s.down = JSON.parse('{"__proto__":["asg=x"],"i-1":["asg=y"]}');
      },
      (s) => {
        (s.limits as Record<symbol, unknown>)[Symbol('k')] = 3;
      },
      (s) => {
        Object.defineProperty(s.limits, 'hidden', { value: 3, enumerable: false });
      },
      (s) => {
        s.limits['12'] = 4;
      },
      (s) => {
        s.slots[0]?.push(1);
      },
      (s) => {
        s.slots[0]?.pop();
      },
      (s) => {
        s.step = 2 ** 60;
      },
      (s) => {
        s.startedAt = Number.POSITIVE_INFINITY;
      },
      (s) => {
        s.limits = Object.create({ inherited: 1 });
      },
    ];
    for (const change of cases) {
      const input = base();
      change(input);
      expect(ours(input)).toBe(zodSays(input));
    }
  });

  it('builds in the schema key order and shares nothing with its input', () => {
    const input = JSON.parse(JSON.stringify(states[1])) as {
      current: { items: Array<Record<string, unknown>> };
      limits: Record<string, number>;
    };
    const [first] = input.current.items;
    if (!first) throw new Error('no items');
    const { instanceId, ...rest } = first;
    input.current.items[0] = { ...rest, instanceId }; // a key the machine added last
    const parsed = parseRolloutState(input);
    expect(Object.keys(parsed.current?.items[0] ?? {})[0]).toBe('instanceId');
    expect(shape(parsed)).toBe(zodSays(input));
    expect(parsed.current?.items[1]).not.toBe(input.current.items[1]);
    expect(parsed.limits).not.toBe(input.limits);
  });

  it('generates code for any field name (quotes and backslashes escaped)', () => {
    const odd = compileFastParse(
      z.object({ 'a"b': z.string(), 'c\\d': z.number().optional(), e: z.boolean() }),
    );
    expect(odd?.({ 'a"b': 'x', 'c\\d': 1, e: true, f: 0 })).toEqual({ 'a"b': 'x', 'c\\d': 1, e: true });
    expect(odd?.({ 'a"b': 'x', e: 1 })).toBe(NOT_PLAIN);
  });

  it('names zod’s first issue when it refuses', () => {
    const [first] = states;
    expect(() => parseRolloutState({ ...(first as object), step: 1.5 })).toThrow(
      /stored rollout state is invalid: step: .*\(1 issue\(s\)\)/,
    );
  });

  it('leaves schemas it does not support to zod', () => {
    expect(compileFastParse(z.object({ a: z.string().default('x') }))).toBeUndefined();
    expect(compileFastParse(z.object({ a: z.number().min(1) }))).toBeUndefined();
    expect(compileFastParse(z.looseObject({ a: z.string() }))).toBeUndefined();
    const plain = compileFastParse(z.object({ a: z.tuple([z.number(), z.string()]), b: z.literal(2) }));
    expect(plain?.({ a: [1, 'x'], b: 2, c: 3 })).toEqual({ a: [1, 'x'], b: 2 });
    expect(plain?.({ a: [1, 'x', 3], b: 2 })).toBe(NOT_PLAIN);
  });
});
