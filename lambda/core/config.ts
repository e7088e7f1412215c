/**
 * The operator config: one zod schema, used by the CDK app at synth time, by the Lambdas at start-up and by
 * the CLI. Every error names the field path (`waves[1].maxParallel`) so the operator can find it.
 */
import { IANAZone } from 'luxon';
import { z } from 'zod';
import { parseIsoDuration } from './time';
import { CONFIGURABLE_REMEDIES, type ConfigurableRemedy, EVENT_CODES, type EventCode } from './types';

/** A count (integer) or a percent (`"25%"`). */
export type CountOrPercent =
  | { readonly kind: 'count'; readonly value: number }
  | { readonly kind: 'percent'; readonly value: number };

/** Resolves a limit against a population: a percent allows at least `minimum`. */
export function resolveLimit(limit: CountOrPercent, population: number, minimum = 1): number {
  if (limit.kind === 'count') return limit.value;
  return Math.max(minimum, Math.floor((population * limit.value) / 100));
}

/** An ISO-8601 duration string → milliseconds, with an error message that shows the expected form. */
export const isoDuration = z.string().transform((text, ctx) => {
  const ms = parseIsoDuration(text);
  if (ms === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" is not an ISO-8601 duration such as "PT2H" or "P1DT30M"`,
    });
    return z.NEVER;
  }
  return ms;
});

const durationField = (defaultIso: string) => isoDuration.prefault(defaultIso);

const countOrPercent = (minCount: number, what: string) =>
  z.union([z.number(), z.string()], { error: `expected ${what}` }).transform((v, ctx): CountOrPercent => {
    if (typeof v === 'number') {
      if (Number.isInteger(v) && v >= minCount) return { kind: 'count', value: v };
      ctx.addIssue({ code: 'custom', message: `expected ${what}, got ${v}` });
      return z.NEVER;
    }
    const m = /^(\d+(?:\.\d+)?)%$/.exec(v.trim());
    const pct = m?.[1] === undefined ? Number.NaN : Number(m[1]);
    if (Number.isFinite(pct) && pct <= 100 && (pct > 0 || minCount === 0))
      return { kind: 'percent', value: pct };
    ctx.addIssue({ code: 'custom', message: `expected ${what}, got "${v}"` });
    return z.NEVER;
  });

const DAYS = ['MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT', 'SUN'] as const;
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: 'expected a 24-hour time "HH:MM"' });

const windowSchema = z
  .strictObject({
    days: z
      .array(z.enum(DAYS, { error: `expected one of ${DAYS.join(', ')}` }))
      .min(1, { error: 'name at least one day' }),
    start: hhmm,
    end: hhmm,
    timeZone: z.string().refine((tz) => IANAZone.isValidZone(tz), {
      error: (iss) => `"${String(iss.input)}" is not an IANA time zone such as "Europe/Berlin" or "UTC"`,
    }),
  })
  .refine((w) => w.start !== w.end, {
    error: 'start and end are equal: the window would be empty',
    path: ['end'],
  });

const waveSchema = z.strictObject({
  name: z.string().min(1, { error: 'a wave needs a name' }),
  match: z.strictObject({ tags: z.record(z.string(), z.string()).default({}) }).prefault({ tags: {} }),
  maxParallel: countOrPercent(1, 'a count (integer >= 1) or a percent like "25%"'),
  bake: durationField('PT15M'),
  failureBudget: countOrPercent(0, 'a count (integer >= 0) or a percent like "5%"').prefault(0),
  approval: z.boolean().default(false),
});

const groupKey = z.string().regex(/^(asg|az|tag:.+)$/, { error: 'expected "asg", "az" or "tag:KEY"' });

const remedyList = z
  .array(z.enum(CONFIGURABLE_REMEDIES, { error: `expected one of ${CONFIGURABLE_REMEDIES.join(', ')}` }))
  .min(1, { error: 'list at least one remedy (use ["report-only"] to take no action)' })
  .refine((l) => new Set(l).size === l.length, { error: 'a remedy is listed twice' });

export const DEFAULT_REMEDIES: Readonly<Record<EventCode, readonly ConfigurableRemedy[]>> = {
  'system-reboot': ['reboot-migrate', 'stop-start', 'reschedule'],
  'instance-reboot': ['reschedule', 'stop-start'],
  'instance-stop': ['stop-start'],
  'instance-retirement': ['stop-start'],
  'system-maintenance': ['report-only'],
};

const remediesSchema = z
  .strictObject(
    Object.fromEntries(EVENT_CODES.map((c) => [c, remedyList.optional()])) as Record<
      EventCode,
      z.ZodOptional<typeof remedyList>
    >,
  )
  .prefault({})
  .superRefine((r, ctx) => {
    for (const [code, list] of Object.entries(r)) {
      if (!list?.includes('reboot-migrate') || code === 'system-reboot') continue;
      ctx.addIssue({
        code: 'custom',
        path: [code],
        message:
          code === 'instance-reboot'
            ? 'reboot-migrate never clears an instance-reboot event (a user reboot leaves it open); use reschedule or stop-start'
            : `reboot-migrate only clears system-reboot events, not ${code}`,
      });
    }
  })
  .transform((r) => ({ ...DEFAULT_REMEDIES, ...r }) as Record<EventCode, readonly ConfigurableRemedy[]>);

export const configSchema = z
  .strictObject({
    optInTag: z
      .strictObject({ key: z.string().min(1), value: z.string() })
      .default({ key: 'forestall:managed', value: 'true' }),
    dryRun: z.boolean().default(true),
    regions: z
      .array(
        z
          .string()
          .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'expected an AWS Region code such as "us-east-1"' }),
      )
      .min(1)
      .default(['us-east-1']),
    pollIntervalMinutes: z.number().int().min(1).max(1440).default(10),
    leadTime: durationField('PT48H'),
    deadlineMargin: durationField('PT2H'),
    groupBy: z.array(groupKey).default(['asg', 'az']),
    maxUnavailablePerGroup: countOrPercent(1, 'a count (integer >= 1) or a percent like "20%"').prefault(
      '20%',
    ),
    windows: z.array(windowSchema).default([]),
    waves: z
      .array(waveSchema)
      .min(1, { error: 'define at least one wave' })
      .prefault([{ name: 'all', maxParallel: '25%' }])
      .superRefine((waves, ctx) => {
        const seen = new Set<string>();
        waves.forEach((w, i) => {
          if (seen.has(w.name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `wave name "${w.name}" is used twice`,
            });
          seen.add(w.name);
        });
      }),
    remedies: remediesSchema,
    instanceStoreDisposable: z.boolean().default(false),
    /** Where the stack's SNS topic sends Forestall's events and alarms (optional). */
    notifyEmail: z.email({ error: 'expected an email address' }).optional(),
    verification: z
      .strictObject({
        timeout: durationField('PT20M'),
        pollInterval: durationField('PT1M'),
        impairedFor: durationField('PT5M'),
        targetHealth: z.boolean().default(true),
      })
      .prefault({}),
  })
  .superRefine((c, ctx) => {
    if (c.verification.timeout < 5 * 60_000) {
      ctx.addIssue({
        code: 'custom',
        path: ['verification', 'timeout'],
        message: 'must be at least PT5M: a stop, a start and the status checks take minutes',
      });
    }
    for (const field of ['pollInterval', 'impairedFor'] as const) {
      const value = c.verification[field];
      if (value <= 0 || value > c.verification.timeout)
        ctx.addIssue({
          code: 'custom',
          path: ['verification', field],
          message: 'must be > 0 and <= verification.timeout',
        });
    }
  });

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type WindowConfig = Config['windows'][number];

export class ConfigError extends Error {
  constructor(
    readonly problems: readonly string[],
    source = 'config',
  ) {
    super(`invalid ${source}: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** `['waves', 1, 'maxParallel']` → `waves[1].maxParallel`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

/** Validates and fills defaults; throws ConfigError whose problems each start with the field path. */
export function parseConfig(input: unknown, source?: string): Config {
  const r = configSchema.safeParse(input ?? {});
  if (r.success) return r.data;
  const problems = r.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map(
          (k) =>
            `${formatPath([...i.path, k])}: unknown field (check its spelling against the config reference)`,
        )
      : [`${formatPath(i.path)}: ${i.message}`],
  );
  throw new ConfigError(problems, source);
}

type Tags = Readonly<Record<string, string>>;

/** Whether Forestall may act on an instance with these tags: it carries the opt-in tag with its value. */
export function isOptedIn(tags: Tags, config: Pick<Config, 'optInTag'>): boolean {
  return tags[config.optInTag.key] === config.optInTag.value;
}

/** Whether an instance with these tags matches a wave: it carries every tag of `match.tags`, equal. */
export function matchesWave(tags: Tags, wave: Config['waves'][number]): boolean {
  return Object.entries(wave.match.tags).every(([k, v]) => tags[k] === v);
}

/** The wave an instance joins: the first one it matches (README "Config reference"); -1 when none does. */
export function waveIndexOf(tags: Tags, config: Pick<Config, 'waves'>): number {
  return config.waves.findIndex((w) => matchesWave(tags, w));
}
