/**
 * AWS Health events from EventBridge (AWS-FACTS §4) → which instances to look at now. Health is a trigger,
 * DescribeInstanceStatus the truth: this only says where to look. Kept: EC2 `scheduledChange` events.
 * Dropped, with the reason: backup copies (`backupEvent: "true"`, sent to a second Region), other services
 * and categories. Pages of one notice (same eventArn and communicationId, `-<page>` suffix aside) merge.
 * Instances are named by bare id or by ARN; both are read.
 */
import { z } from 'zod';
import { parseAwsTime } from './time';

const INSTANCE_ID = /(?:^|:instance\/)(i-[0-9a-f]{8,17})$/;

const healthEventSchema = z.looseObject({
  source: z.literal('aws.health'),
  'detail-type': z.string(),
  account: z.string(),
  region: z.string(),
  resources: z.array(z.string()).default([]),
  detail: z.looseObject({
    eventArn: z.string().min(1),
    service: z.string(),
    eventTypeCode: z.string(),
    eventTypeCategory: z.string(),
    communicationId: z.string().default(''),
    startTime: z.string().optional(),
    endTime: z.string().optional(),
    statusCode: z.string().optional(),
    eventRegion: z.string().optional(),
    affectedAccount: z.string().optional(),
    affectedEntities: z.array(z.looseObject({ entityValue: z.string() })).default([]),
    page: z.coerce.number().int().min(1).default(1),
    totalPages: z.coerce.number().int().min(1).default(1),
    backupEvent: z.union([z.boolean(), z.string()]).optional(),
  }),
});

/** One Health notice about EC2 instances: look at them in `region` (of `account`) now. */
export interface HealthLook {
  readonly eventArn: string;
  /** communicationId without its `-<page>` suffix: the key pages share. */
  readonly communicationId: string;
  readonly eventTypeCode: string;
  /** The affected Region (detail.eventRegion), not the Region the event was delivered to. */
  readonly region: string;
  readonly account: string;
  readonly instanceIds: readonly string[];
  readonly startTime?: number;
  readonly endTime?: number;
  readonly statusCode?: string;
  /** Pages received of `totalPages` (a notice with missing pages still names the instances it has). */
  readonly pages: readonly number[];
  readonly totalPages: number;
}

export type HealthParse =
  | { readonly kind: 'look'; readonly look: HealthLook }
  | { readonly kind: 'ignored'; readonly reason: 'backup-copy' | 'not-ec2' | 'not-scheduled-change' }
  | { readonly kind: 'invalid'; readonly reason: string };

/** `i-…` from a bare id or an instance ARN; undefined for anything else (hosts, other resources). */
export function instanceIdOf(value: string): string | undefined {
  return INSTANCE_ID.exec(value)?.[1];
}

export function parseHealthEvent(input: unknown): HealthParse {
  const r = healthEventSchema.safeParse(input);
  if (!r.success) {
    const i = r.error.issues[0];
    return { kind: 'invalid', reason: i ? `${i.path.join('.') || 'event'}: ${i.message}` : 'invalid' };
  }
  const { detail, resources } = r.data;
  if (detail.backupEvent === true || detail.backupEvent === 'true')
    return { kind: 'ignored', reason: 'backup-copy' };
  if (detail.service !== 'EC2') return { kind: 'ignored', reason: 'not-ec2' };
  if (detail.eventTypeCategory !== 'scheduledChange')
    return { kind: 'ignored', reason: 'not-scheduled-change' };
  const ids = new Set<string>();
  for (const v of [...detail.affectedEntities.map((e) => e.entityValue), ...resources]) {
    const id = instanceIdOf(v);
    if (id) ids.add(id);
  }
  const startTime = parseAwsTime(detail.startTime);
  const endTime = parseAwsTime(detail.endTime);
  return {
    kind: 'look',
    look: {
      eventArn: detail.eventArn,
      communicationId: detail.communicationId.replace(/-\d+$/, ''),
      eventTypeCode: detail.eventTypeCode,
      region: detail.eventRegion ?? r.data.region,
      account: detail.affectedAccount ?? r.data.account,
      instanceIds: [...ids].sort(),
      ...(startTime === undefined ? {} : { startTime }),
      ...(endTime === undefined ? {} : { endTime }),
      ...(detail.statusCode === undefined ? {} : { statusCode: detail.statusCode }),
      pages: [detail.page],
      totalPages: detail.totalPages,
    },
  };
}

/** Merges the pages of each notice (eventArn + communicationId): instances united, pages listed once. */
export function mergeHealthPages(looks: readonly HealthLook[]): HealthLook[] {
  const byKey = new Map<string, HealthLook>();
  for (const look of looks) {
    const key = `${look.account}|${look.eventArn}|${look.communicationId}`;
    const seen = byKey.get(key);
    if (!seen) {
      byKey.set(key, look);
      continue;
    }
    byKey.set(key, {
      ...seen,
      instanceIds: [...new Set([...seen.instanceIds, ...look.instanceIds])].sort(),
      pages: [...new Set([...seen.pages, ...look.pages])].sort((a, b) => a - b),
    });
  }
  return [...byKey.values()];
}

/** The looks an intake delivery asks for: every valid event of it parsed, pages merged; the rest with why. */
export function healthLooks(events: readonly unknown[]): {
  readonly looks: HealthLook[];
  readonly dropped: { readonly index: number; readonly reason: string }[];
} {
  const looks: HealthLook[] = [];
  const dropped: { index: number; reason: string }[] = [];
  events.forEach((event, index) => {
    const p = parseHealthEvent(event);
    if (p.kind === 'look') looks.push(p.look);
    else dropped.push({ index, reason: p.reason });
  });
  return { looks: mergeHealthPages(looks), dropped };
}
