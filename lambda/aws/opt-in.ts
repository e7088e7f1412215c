/**
 * The opt-in re-check just before each call that takes an instance out of service (DESIGN: "safe by
 * default"): the planner chose instances carrying the opt-in tag, but an operator may remove the tag at any
 * time since, and then Forestall must not touch the instance. The decorators re-read the tags right before
 * the call and pass on only the ids that still carry `optInTag` (key=value); the others come back failed,
 * neither retryable nor ambiguous, and no request is sent for them.
 *
 * Calls that put an instance back in service (ExitStandby, RegisterTargets) are never refused here: an
 * instance left in Standby or out of its target group by our own code would be worse than one touched after
 * its tag went. IAM still requires the tag on the Auto Scaling group for ExitStandby, so an operator who
 * removes a group's tag mid-rollout must take its members out of Standby by hand.
 */
import { ThrottledError } from '../core/batch';
import type {
  ActionOutcome,
  AutoScalingGroupState,
  DrainPort,
  FleetPort,
  TargetRegistration,
} from '../core/ports';
import type { InstanceFacts, InstanceStatus } from '../core/types';
import { classifyError, describeError } from './errors';

export interface OptInTag {
  readonly key: string;
  readonly value: string;
}

/** Why an instance was not touched: the message its ActionOutcome carries. */
export function notOptedIn(tag: OptInTag, what = 'the instance'): string {
  return `opt-in tag ${tag.key}=${tag.value} no longer on ${what}: not touched`;
}

function carries(tags: Readonly<Record<string, string>> | undefined, tag: OptInTag): boolean {
  return tags !== undefined && tags[tag.key] === tag.value;
}

/** The re-check's read failed: nothing was sent. Throttling is worth another try later; anything else not. */
function uncheckedOutcomes(ids: readonly string[], e: unknown): ActionOutcome[] {
  const retryable = e instanceof ThrottledError || classifyError(e) === 'throttle';
  const error = `opt-in re-check failed, not touched: ${describeError(e)}`;
  return ids.map((instanceId) => ({ instanceId, ok: false, error, ...(retryable ? { retryable } : {}) }));
}

/**
 * Runs `call` for the ids that `allowed` keeps, and answers the others with `refusal`; outcomes come back
 * in the order of `ids`. No call at all when no id is left.
 */
async function guarded(
  ids: readonly string[],
  allowed: () => Promise<ReadonlySet<string>>,
  refusal: (id: string) => string,
  call: (ids: readonly string[]) => Promise<ActionOutcome[]>,
): Promise<ActionOutcome[]> {
  let keep: ReadonlySet<string>;
  try {
    keep = await allowed();
  } catch (e) {
    return uncheckedOutcomes(ids, e);
  }
  const pass = ids.filter((id) => keep.has(id));
  const done = new Map((pass.length > 0 ? await call(pass) : []).map((o) => [o.instanceId, o]));
  return ids.map(
    (instanceId) =>
      done.get(instanceId) ??
      (keep.has(instanceId)
        ? { instanceId, ok: false, error: 'no outcome' }
        : { instanceId, ok: false, error: refusal(instanceId) }),
  );
}

/** The ids among `ids` whose instances still carry the tag, read with DescribeInstances (describeFacts). */
async function taggedInstances(
  fleet: FleetPort,
  ids: readonly string[],
  tag: OptInTag,
): Promise<ReadonlySet<string>> {
  const facts = await fleet.describeFacts([...new Set(ids)]);
  return new Set(facts.filter((f) => carries(f.tags, tag)).map((f) => f.instanceId));
}

/**
 * A FleetPort that re-checks the opt-in tag before Reboot/Stop/Start/ModifyInstanceEventStartTime. Reads
 * pass through unchanged. An instance that no longer exists (absent from describeFacts) is not touched either.
 */
export class OptInFleet implements FleetPort {
  constructor(
    private readonly inner: FleetPort,
    private readonly optInTag: OptInTag,
  ) {}

  listScheduled(): Promise<InstanceStatus[]> {
    return this.inner.listScheduled();
  }

  describeStatus(instanceIds: readonly string[]): Promise<InstanceStatus[]> {
    return this.inner.describeStatus(instanceIds);
  }

  describeFacts(instanceIds?: readonly string[]): Promise<InstanceFacts[]> {
    return this.inner.describeFacts(instanceIds);
  }

  reboot(ids: readonly string[]): Promise<ActionOutcome[]> {
    return this.checked(ids, (pass) => this.inner.reboot(pass));
  }

  stop(ids: readonly string[]): Promise<ActionOutcome[]> {
    return this.checked(ids, (pass) => this.inner.stop(pass));
  }

  start(ids: readonly string[]): Promise<ActionOutcome[]> {
    return this.checked(ids, (pass) => this.inner.start(pass));
  }

  async reschedule(instanceId: string, eventId: string, notBefore: number): Promise<ActionOutcome> {
    const [out] = await this.checked([instanceId], async () => [
      await this.inner.reschedule(instanceId, eventId, notBefore),
    ]);
    return out ?? { instanceId, ok: false, error: 'no outcome' };
  }

  private checked(
    ids: readonly string[],
    call: (pass: readonly string[]) => Promise<ActionOutcome[]>,
  ): Promise<ActionOutcome[]> {
    return guarded(
      ids,
      () => taggedInstances(this.inner, ids, this.optInTag),
      () => notOptedIn(this.optInTag),
      call,
    );
  }
}

/** What OptInDrain needs besides the DrainPort: the groups' current tags (AwsDrain.groupTags). */
export interface GroupTagReader {
  /** Group name → its tags, read fresh; a group that does not exist is absent. */
  groupTags(names: readonly string[]): Promise<Map<string, Readonly<Record<string, string>>>>;
}

/**
 * A DrainPort that re-checks the opt-in tag before the calls that take instances out of service:
 * EnterStandby needs the tag on the group (IAM's condition looks there) and on each instance; DeregisterTargets
 * on each instance (read through `fleet`). ExitStandby and RegisterTargets pass through unguarded (see the
 * file comment).
 */
export class OptInDrain implements DrainPort {
  constructor(
    private readonly inner: DrainPort & GroupTagReader,
    private readonly fleet: FleetPort,
    private readonly optInTag: OptInTag,
  ) {}

  describeGroups(names: readonly string[]): Promise<AutoScalingGroupState[]> {
    return this.inner.describeGroups(names);
  }

  describeTargets(instanceIds: readonly string[]): Promise<TargetRegistration[]> {
    return this.inner.describeTargets(instanceIds);
  }

  async enterStandby(
    groupName: string,
    instanceIds: readonly string[],
    decrementDesired: boolean,
  ): Promise<ActionOutcome[]> {
    const tag = this.optInTag;
    let groupTagged = false;
    return guarded(
      instanceIds,
      async () => {
        groupTagged = carries((await this.inner.groupTags([groupName])).get(groupName), tag);
        return groupTagged ? taggedInstances(this.fleet, instanceIds, tag) : new Set<string>();
      },
      () => (groupTagged ? notOptedIn(tag) : notOptedIn(tag, `the Auto Scaling group ${groupName}`)),
      (pass) => this.inner.enterStandby(groupName, pass, decrementDesired),
    );
  }

  /** Not guarded: see the file comment (IAM still needs the group's tag; without it, exit Standby by hand). */
  exitStandby(groupName: string, instanceIds: readonly string[]): Promise<ActionOutcome[]> {
    return this.inner.exitStandby(groupName, instanceIds);
  }

  deregisterTargets(targetGroupArn: string, instanceIds: readonly string[]): Promise<ActionOutcome[]> {
    return guarded(
      instanceIds,
      () => taggedInstances(this.fleet, instanceIds, this.optInTag),
      () => notOptedIn(this.optInTag),
      (pass) => this.inner.deregisterTargets(targetGroupArn, pass),
    );
  }

  /** Not guarded: putting a target back must never be refused by our own code. */
  registerTargets(targetGroupArn: string, instanceIds: readonly string[]): Promise<ActionOutcome[]> {
    return this.inner.registerTargets(targetGroupArn, instanceIds);
  }
}
