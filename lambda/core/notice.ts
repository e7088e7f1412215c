/**
 * DescribeInstanceStatus output (AWS CLI JSON or SDK v3 objects) → Notice and InstanceStatus.
 * Lenient per element: a malformed status or event is rejected with a reason, the rest still parses.
 */
import { z } from 'zod';
import { parseAwsTime } from './time';
import type { CheckStatus, InstanceState, InstanceStatus, Notice, NoticeState } from './types';

export interface Rejected {
  readonly where: string;
  readonly reason: string;
  /** The record's instance id, when it had a readable one. */
  readonly instanceId?: string;
}

const awsTime = z.union([z.string(), z.date()]);

const eventSchema = z.looseObject({
  InstanceEventId: z.string().min(1),
  Code: z.string().min(1),
  Description: z.string().default(''),
  NotBefore: awsTime,
  NotAfter: awsTime.optional(),
  NotBeforeDeadline: awsTime.optional(),
});

const statusSchema = z.looseObject({
  InstanceId: z
    .string()
    .regex(/^i-[0-9a-f]+$/, { error: 'expected an instance id like "i-0123456789abcdef0"' }),
  AvailabilityZone: z.string().optional(),
  InstanceState: z.looseObject({ Name: z.string() }).optional(),
  Events: z.array(z.unknown()).default([]),
  InstanceStatus: z.looseObject({ Status: z.string() }).optional(),
  SystemStatus: z.looseObject({ Status: z.string() }).optional(),
});

const INSTANCE_STATES: readonly InstanceState[] = [
  'pending',
  'running',
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
];
const CHECK_STATUSES: readonly CheckStatus[] = [
  'ok',
  'impaired',
  'insufficient-data',
  'not-applicable',
  'initializing',
];

export function instanceStateOf(name: string | undefined): InstanceState {
  return INSTANCE_STATES.find((s) => s === name) ?? 'pending';
}

function checkStatusOf(name: string | undefined): CheckStatus {
  return CHECK_STATUSES.find((s) => s === name) ?? 'insufficient-data';
}

/** `[Completed]` and `[Canceled]` prefixes mark history (AWS-FACTS §1). */
export function noticeStateOf(description: string): NoticeState {
  const d = description.trimStart();
  if (d.startsWith('[Completed]')) return 'completed';
  if (d.startsWith('[Canceled]') || d.startsWith('[Cancelled]')) return 'canceled';
  return 'active';
}

function firstIssue(err: z.ZodError): string {
  const i = err.issues[0];
  return i ? `${i.path.join('.') || 'value'}: ${i.message}` : 'invalid';
}

export interface ParsedStatuses {
  readonly statuses: InstanceStatus[];
  readonly notices: Notice[];
  readonly rejected: Rejected[];
}

/**
 * Accepts one DescribeInstanceStatus response, or an array of pages. Returns every instance status, every
 * event as a Notice (history included; the planner decides), and what it could not read, with why.
 */
export function parseInstanceStatuses(
  input: unknown,
  region: string,
  source: Notice['source'] = 'poll',
): ParsedStatuses {
  const pages = Array.isArray(input) ? input : [input];
  const statuses: InstanceStatus[] = [];
  const notices: Notice[] = [];
  const rejected: Rejected[] = [];
  pages.forEach((page, p) => {
    const list = (page as { InstanceStatuses?: unknown } | null)?.InstanceStatuses;
    if (!Array.isArray(list)) {
      rejected.push({
        where: `page ${p}`,
        reason: 'no InstanceStatuses array: is this `aws ec2 describe-instance-status` output?',
      });
      return;
    }
    list.forEach((raw, i) => {
      const where = `InstanceStatuses[${i}]`;
      const s = statusSchema.safeParse(raw);
      if (!s.success) {
        rejected.push({ where, reason: firstIssue(s.error) });
        return;
      }
      const own: Notice[] = [];
      s.data.Events.forEach((rawEvent, j) => {
        const ewhere = `${where}.Events[${j}] (${s.data.InstanceId})`;
        const e = eventSchema.safeParse(rawEvent);
        if (!e.success) {
          rejected.push({ where: ewhere, reason: firstIssue(e.error) });
          return;
        }
        const notBefore = parseAwsTime(e.data.NotBefore);
        const notAfter = e.data.NotAfter === undefined ? undefined : parseAwsTime(e.data.NotAfter);
        const notBeforeDeadline =
          e.data.NotBeforeDeadline === undefined ? undefined : parseAwsTime(e.data.NotBeforeDeadline);
        if (
          notBefore === undefined ||
          (e.data.NotAfter !== undefined && notAfter === undefined) ||
          (e.data.NotBeforeDeadline !== undefined && notBeforeDeadline === undefined)
        ) {
          rejected.push({
            where: ewhere,
            reason: 'NotBefore, NotAfter or NotBeforeDeadline is not a valid timestamp',
          });
          return;
        }
        own.push({
          instanceId: s.data.InstanceId,
          region,
          eventId: e.data.InstanceEventId,
          code: e.data.Code,
          description: e.data.Description,
          notBefore,
          ...(notAfter === undefined ? {} : { notAfter }),
          ...(notBeforeDeadline === undefined ? {} : { notBeforeDeadline }),
          source,
          state: noticeStateOf(e.data.Description),
        });
      });
      notices.push(...own);
      statuses.push({
        instanceId: s.data.InstanceId,
        state: instanceStateOf(s.data.InstanceState?.Name),
        instanceStatus: checkStatusOf(s.data.InstanceStatus?.Status),
        systemStatus: checkStatusOf(s.data.SystemStatus?.Status),
        notices: own,
      });
    });
  });
  return { statuses, notices, rejected };
}
