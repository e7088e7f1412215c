/** The rollout state machine's task inputs, validated (a malformed input fails the task with the field named). */
import { z } from 'zod';
import type { TurnInput } from '../core/sfn-moves';

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected a rollout id' });
const region = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'expected an AWS Region code' });
const count = z.number().int().min(0);

const turnSchema = z.object({ rolloutId: id, region, batch: count, part: count, turns: count });
const planSchema = z.object({ rolloutId: id, region });
const approvalSchema = z.object({ rolloutId: id, batch: count, taskToken: z.string().min(1) });

function parse<T>(schema: z.ZodType<T>, event: unknown, what: string): T {
  const r = schema.safeParse(event);
  if (r.success) return r.data;
  throw new Error(`${what}: ${z.prettifyError(r.error).replace(/\n/g, '; ')}`);
}

export const turnInput = (event: unknown): TurnInput => parse(turnSchema, event, 'step input');
export const planInput = (event: unknown) => parse(planSchema, event, 'plan input');
export const approvalInput = (event: unknown) => parse(approvalSchema, event, 'approval input');
