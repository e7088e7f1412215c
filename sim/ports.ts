/** In-memory twins of every port, backed by SimEc2. The fleet adapter parses SimEc2's AWS-shaped JSON with the same core parsers the AWS adapter uses. */
import { allPages, type CallEnv, callIsolating, withThrottleRetry } from '../lambda/core/batch';
import { parseInstances, parseInstanceTypes } from '../lambda/core/facts';
import { parseInstanceStatuses } from '../lambda/core/notice';
import type { ActionOutcome, ApprovalPort, Clock, FleetPort, Ports } from '../lambda/core/ports';
import { EVENT_CODES, type InstanceFacts, type InstanceStatus } from '../lambda/core/types';
import { SimApiError, type SimEc2 } from './ec2';
import { MemoryLedger, MemoryReporter, ScriptedApprovals } from './memory';
import type { Rng } from './rng';

export { MemoryLedger, MemoryReporter, ScriptedApprovals };

export class SimClock implements Clock {
  constructor(private readonly world: SimEc2) {}

  now(): number {
    return this.world.now;
  }

  async sleepUntil(t: number): Promise<void> {
    this.world.advanceTo(t);
  }
}

export class SimFleet implements FleetPort {
  private readonly env: CallEnv;
  private types?: Map<string, boolean>;

  constructor(
    private readonly world: SimEc2,
    private readonly region: string,
    rng: Rng,
  ) {
    this.env = {
      sleep: async (ms) => world.advanceTo(world.now + ms),
      random: () => rng.next(),
      isThrottle: (e) => e instanceof SimApiError && e.code === 'RequestLimitExceeded',
      // The simulated API answers every call; a lost reply is injected by tests as a non-API error.
      isAmbiguous: (e) => !(e instanceof SimApiError),
      describeError: (e) => (e instanceof Error ? e.message : String(e)),
    };
  }

  async listScheduled(): Promise<InstanceStatus[]> {
    const pages = await allPages((token) =>
      withThrottleRetry(
        () =>
          this.world.describeInstanceStatus({
            Filters: [{ Name: 'event.code', Values: EVENT_CODES }],
            IncludeAllInstances: true,
            MaxResults: 1000,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        this.env,
      ),
    );
    return pages.flatMap((page) => parseInstanceStatuses(page, this.region).statuses);
  }

  async describeStatus(instanceIds: readonly string[]): Promise<InstanceStatus[]> {
    const raw = await withThrottleRetry(() => this.world.describeInstanceStatus(instanceIds), this.env);
    return parseInstanceStatuses(raw, this.region).statuses;
  }

  async describeFacts(instanceIds?: readonly string[]): Promise<InstanceFacts[]> {
    if (!this.types)
      this.types = parseInstanceTypes(
        await withThrottleRetry(() => this.world.describeInstanceTypes(), this.env),
      );
    const types = this.types;
    if (instanceIds)
      return parseInstances(
        await withThrottleRetry(() => this.world.describeInstances(instanceIds), this.env),
        this.region,
        types,
      ).facts;
    const pages = await allPages((token) =>
      withThrottleRetry(
        () =>
          this.world.describeInstances({
            MaxResults: 1000,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        this.env,
      ),
    );
    return pages.flatMap((page) => parseInstances(page, this.region, types).facts);
  }

  reboot(ids: readonly string[]): Promise<ActionOutcome[]> {
    return callIsolating(ids, (b) => this.world.rebootInstances(b), this.env);
  }

  stop(ids: readonly string[]): Promise<ActionOutcome[]> {
    return callIsolating(ids, (b) => this.world.stopInstances(b), this.env);
  }

  start(ids: readonly string[]): Promise<ActionOutcome[]> {
    return callIsolating(ids, (b) => this.world.startInstances(b), this.env);
  }

  async reschedule(instanceId: string, eventId: string, notBefore: number): Promise<ActionOutcome> {
    const [out] = await callIsolating(
      [instanceId],
      () => this.world.modifyInstanceEventStartTime(instanceId, eventId, notBefore),
      this.env,
    );
    return out ?? { instanceId, ok: false, error: 'no outcome' };
  }
}

export function simPorts(
  world: SimEc2,
  region: string,
  rng: Rng,
  approvals: ApprovalPort = new ScriptedApprovals(),
): Ports & { ledger: MemoryLedger; reporter: MemoryReporter; fleet: SimFleet } {
  return {
    clock: new SimClock(world),
    fleet: new SimFleet(world, region, rng),
    ledger: new MemoryLedger(),
    reporter: new MemoryReporter(),
    approvals,
  };
}
