/**
 * The event catalog: every detail type Forestall puts on its bus (source `forestall`), each detail defined
 * once here. schemas/ holds the JSON Schema of each, generated from these (`npm run schemas`); a test fails
 * when one is stale. Objects are strict (an unknown field is an error); optional fields may be absent.
 * Times are ISO-8601 UTC strings.
 */
import { z } from 'zod';

/** Bumped when a detail changes incompatibly; part of each schema's $id. */
export const CATALOG_VERSION = 1;

const time = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);
const account = z.string().regex(/^\d{12}$/);

const noticeFields = {
  region: z.string().min(1),
  account: account.optional(),
  instanceId: z.string().regex(/^i-[0-9a-f]+$/),
  eventId: z.string().min(1),
  code: z.string().min(1),
  notBefore: time,
  notAfter: time.optional(),
  notBeforeDeadline: time.optional(),
  /** When AWS acts unless something is done first (the event's NotBefore). */
  deadline: time,
  source: z.enum(['poll', 'health']),
};

const rolloutFields = {
  rolloutId: z.string().min(1),
  region: z.string().min(1),
  account: account.optional(),
};
const itemFields = {
  instanceId: noticeFields.instanceId,
  eventId: z.string().min(1),
  code: z.string().min(1),
};

export const CATALOG = {
  'Notice Discovered': z.strictObject(noticeFields),
  'Notice Changed': z.strictObject({
    ...noticeFields,
    previous: z.strictObject({
      notBefore: time,
      notAfter: time.optional(),
      notBeforeDeadline: time.optional(),
      deadline: time,
    }),
  }),
  'Notice Cleared': z.strictObject({ ...noticeFields, why: z.enum(['completed', 'canceled', 'gone']) }),
  'Rollout Planned': z.strictObject({
    ...rolloutFields,
    batches: count,
    items: count,
    skipped: count,
    infeasible: count,
    dryRun: z.boolean(),
  }),
  'Plan Infeasible': z.strictObject({ ...rolloutFields, ...itemFields, reason: z.string(), deadline: time }),
  'Notice Skipped': z.strictObject({
    ...rolloutFields,
    ...itemFields,
    reason: z.string(),
    batchIndex: count.optional(),
    /** Present when a rollout dropped a planned item (preflight, drain, halt, a reschedule not made). */
    remedy: z.string().optional(),
    deadline: time.optional(),
  }),
  'Batch Started': z.strictObject({
    ...rolloutFields,
    batchIndex: count,
    wave: z.string(),
    items: count,
    acting: count,
  }),
  'Approval Requested': z.strictObject({
    ...rolloutFields,
    batchIndex: count,
    wave: z.string(),
    /** Instances the batch would act on once approved. */
    items: count,
    /** Without an answer by then the rollout halts. */
    timeoutAt: time.optional(),
  }),
  'Instance Remedied': z.strictObject({
    ...rolloutFields,
    ...itemFields,
    batchIndex: count,
    remedy: z.string(),
    deadline: time,
    durationSeconds: z.number().min(0),
  }),
  'Instance Remedy Failed': z.strictObject({
    ...rolloutFields,
    ...itemFields,
    batchIndex: count.optional(),
    remedy: z.string(),
    deadline: time,
    reason: z.string(),
  }),
  'Batch Completed': z.strictObject({
    ...rolloutFields,
    batchIndex: count,
    wave: z.string(),
    verified: count,
    failed: count,
    budget: count,
    dropped: count,
    /** Items a dry run only reported (nothing was done to them). */
    dryRun: count.optional(),
    /** Items whose event Forestall moved (rescheduled) instead of remedying now. */
    moved: count.optional(),
  }),
  'Rollout Halted': z.strictObject({
    ...rolloutFields,
    reason: z.string(),
    notRun: count,
    note: z.string().optional(),
  }),
  'Rollout Completed': z.strictObject({
    ...rolloutFields,
    halted: z.boolean(),
    batchesRun: count,
    durationSeconds: z.number().min(0),
  }),
} as const;

export type CatalogDetailType = keyof typeof CATALOG;
export type DetailOf<T extends CatalogDetailType> = z.output<(typeof CATALOG)[T]>;
export const CATALOG_DETAIL_TYPES = Object.keys(CATALOG) as CatalogDetailType[];

/** A catalogued event ready for the reporter. */
export interface CatalogEvent<T extends CatalogDetailType = CatalogDetailType> {
  readonly detailType: T;
  readonly detail: DetailOf<T>;
  readonly time?: string;
}

/** `Notice Discovered` → `notice-discovered` (the schema's file name). */
export function schemaName(detailType: string): string {
  return detailType.toLowerCase().replace(/\s+/g, '-');
}

/** The JSON Schema of one detail type, as schemas/<name>.json holds it. */
export function detailJsonSchema(detailType: CatalogDetailType): Record<string, unknown> {
  const { $schema, ...body } = z.toJSONSchema(CATALOG[detailType]) as Record<string, unknown>;
  return {
    $schema,
    $id: `forestall/${schemaName(detailType)}/v${CATALOG_VERSION}`,
    title: detailType,
    description: `The detail of a "${detailType}" event (source "forestall").`,
    ...body,
  };
}

/** Validates an event's detail against the catalog; throws naming the first problem. */
export function assertCatalogued(detailType: string, detail: unknown): void {
  const schema = (CATALOG as Record<string, z.ZodType>)[detailType];
  if (!schema) throw new Error(`"${detailType}" is not in the event catalog`);
  const r = schema.safeParse(detail);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`"${detailType}" detail: ${i?.path.join('.') || '(root)'}: ${i?.message}`);
  }
}
