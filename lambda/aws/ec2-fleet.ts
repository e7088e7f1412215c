/**
 * FleetPort over EC2 (AWS SDK v3). Reads use the core parsers on SDK output, so the simulator and AWS read
 * alike. Calls stay within AWS-FACTS §2 and §6: DescribeInstanceStatus filtered on the event codes, with
 * IncludeAllInstances and MaxResults, paginated; at most 100 ids per Describe call, ACTION_BATCH per
 * Reboot/Stop/Start call. Mutating calls are classified per errors.ts: throttling is retried (then
 * `retryable`), a refused batch is split id by id so the others proceed, and a timeout or 5xx leaves every id
 * `ambiguous`, never re-sent.
 */
import {
  type _InstanceType,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeInstanceTypesCommand,
  type EC2Client,
  ModifyInstanceEventStartTimeCommand,
  paginateDescribeInstanceStatus,
  paginateDescribeInstances,
  RebootInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ACTION_BATCH, DESCRIBE_BATCH } from '../core/api-limits';
import { type CallEnv, callIsolating } from '../core/batch';
import { parseInstances, parseInstanceTypes } from '../core/facts';
import { parseInstanceStatuses, type Rejected } from '../core/notice';
import type { ActionOutcome, FleetPort } from '../core/ports';
import { EVENT_CODES, type InstanceFacts, type InstanceStatus } from '../core/types';
import { awsCallEnv, type CallEnvOptions, describeError, errorCode } from './errors';

/** Instances per DescribeInstanceStatus / DescribeInstances page when listing the whole Region. */
export const PAGE_SIZE = 1000;
/** Instance types per DescribeInstanceTypes call (the API's limit). */
const TYPES_BATCH = 100;

export interface Ec2FleetOptions extends CallEnvOptions {
  /** Told about every status, event or instance the parsers could not read (the rest still counts). */
  readonly onRejected?: (rejected: readonly Rejected[]) => void;
  /** MaxResults of a whole-Region page (default PAGE_SIZE). */
  readonly pageSize?: number;
}

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class Ec2Fleet implements FleetPort {
  private readonly env: CallEnv;
  /** Instance type → has instance store; DescribeInstanceTypes is asked once per type. */
  private readonly storage = new Map<string, boolean>();

  constructor(
    private readonly region: string,
    private readonly reads: EC2Client,
    private readonly writes: EC2Client,
    private readonly options: Ec2FleetOptions = {},
  ) {
    this.env = awsCallEnv(options);
  }

  private report(rejected: readonly Rejected[]): void {
    if (rejected.length > 0) this.options.onRejected?.(rejected);
  }

  async listScheduled(): Promise<InstanceStatus[]> {
    const out: InstanceStatus[] = [];
    const pages = paginateDescribeInstanceStatus(
      { client: this.reads, pageSize: this.options.pageSize ?? PAGE_SIZE },
      { Filters: [{ Name: 'event.code', Values: [...EVENT_CODES] }], IncludeAllInstances: true },
    );
    for await (const page of pages) {
      const parsed = parseInstanceStatuses(page, this.region);
      this.report(parsed.rejected);
      out.push(...parsed.statuses);
    }
    return out;
  }

  async describeStatus(instanceIds: readonly string[]): Promise<InstanceStatus[]> {
    const out: InstanceStatus[] = [];
    for (const batch of chunks(instanceIds, DESCRIBE_BATCH)) {
      const page = await withoutUnknownIds(batch, (ids) =>
        this.reads.send(new DescribeInstanceStatusCommand({ InstanceIds: ids, IncludeAllInstances: true })),
      );
      if (!page) continue;
      const parsed = parseInstanceStatuses(page, this.region);
      this.report(parsed.rejected);
      out.push(...parsed.statuses);
    }
    return out;
  }

  async describeFacts(instanceIds?: readonly string[]): Promise<InstanceFacts[]> {
    const pages: unknown[] = [];
    if (instanceIds) {
      for (const batch of chunks(instanceIds, DESCRIBE_BATCH)) {
        const page = await withoutUnknownIds(batch, (ids) =>
          this.reads.send(new DescribeInstancesCommand({ InstanceIds: ids })),
        );
        if (page) pages.push(page);
      }
    } else {
      for await (const page of paginateDescribeInstances(
        { client: this.reads, pageSize: this.options.pageSize ?? PAGE_SIZE },
        {},
      ))
        pages.push(page);
    }
    await this.learnStorage(pages);
    const parsed = parseInstances(pages, this.region, this.storage);
    this.report(parsed.rejected);
    return parsed.facts;
  }

  /** DescribeInstanceTypes for the types not asked about yet (AWS-FACTS §3: NVMe instance store). */
  private async learnStorage(pages: readonly unknown[]): Promise<void> {
    const types = new Set<string>();
    for (const page of pages)
      for (const r of (page as { Reservations?: { Instances?: { InstanceType?: string }[] }[] })
        .Reservations ?? [])
        for (const i of r.Instances ?? []) if (i.InstanceType) types.add(i.InstanceType);
    const unknown = [...types].filter((t) => !this.storage.has(t));
    for (const batch of chunks(unknown, TYPES_BATCH)) {
      const page = await this.reads.send(
        new DescribeInstanceTypesCommand({ InstanceTypes: batch as _InstanceType[] }),
      );
      for (const [type, has] of parseInstanceTypes(page)) this.storage.set(type, has);
    }
  }

  reboot(ids: readonly string[]): Promise<ActionOutcome[]> {
    return this.inBatches(ids, (b) => this.writes.send(new RebootInstancesCommand({ InstanceIds: b })));
  }

  stop(ids: readonly string[]): Promise<ActionOutcome[]> {
    return this.inBatches(ids, (b) => this.writes.send(new StopInstancesCommand({ InstanceIds: b })));
  }

  start(ids: readonly string[]): Promise<ActionOutcome[]> {
    return this.inBatches(ids, (b) => this.writes.send(new StartInstancesCommand({ InstanceIds: b })));
  }

  async reschedule(instanceId: string, eventId: string, notBefore: number): Promise<ActionOutcome> {
    const [out] = await this.classified([instanceId], () =>
      this.writes.send(
        new ModifyInstanceEventStartTimeCommand({
          InstanceId: instanceId,
          InstanceEventId: eventId,
          NotBefore: new Date(notBefore),
        }),
      ),
    );
    return out ?? { instanceId, ok: false, error: 'no outcome' };
  }

  private async inBatches(
    ids: readonly string[],
    call: (batch: string[]) => Promise<unknown>,
  ): Promise<ActionOutcome[]> {
    const out: ActionOutcome[] = [];
    for (const batch of chunks(ids, ACTION_BATCH)) out.push(...(await this.classified(batch, call)));
    return out;
  }

  /** One mutating call → one outcome per id (see the file comment for the three kinds of failure). */
  private classified(ids: string[], call: (batch: string[]) => Promise<unknown>): Promise<ActionOutcome[]> {
    return callIsolating(
      ids,
      async (batch) => {
        await call([...batch]);
      },
      this.env,
    );
  }
}

/**
 * Runs a Describe call for `ids`, dropping the ids EC2 says do not exist (terminated long ago, or never
 * ours) and asking again; undefined when none is left. EC2 fails the whole call for one unknown id.
 */
async function withoutUnknownIds<T>(ids: readonly string[], call: (ids: string[]) => Promise<T>) {
  let rest = [...ids];
  while (rest.length > 0) {
    try {
      return await call(rest);
    } catch (e) {
      if (errorCode(e) !== 'InvalidInstanceID.NotFound') throw e;
      const missing = new Set(describeError(e).match(/i-[0-9a-f]+/g) ?? []);
      const known = rest.filter((id) => !missing.has(id));
      if (known.length === rest.length) throw e;
      rest = known;
    }
  }
  return undefined;
}
