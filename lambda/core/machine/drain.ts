/**
 * Drain and undrain (AWS-FACTS §9): Auto Scaling members go to Standby before a reboot or stop-start, so the
 * group neither replaces them nor sends them traffic; instances registered directly in target groups are
 * deregistered and drained for the deregistration delay. Undrain after verification, always, even when the
 * remedy failed. Reschedule items are not drained: AWS acts somewhere in a window of hours.
 */
import { DESCRIBE_BATCH, STANDBY_BATCH } from '../api-limits';
import type { BatchState, ItemState } from './state';
import { chunks, type Step } from './step';

const DRAIN_ATTEMPTS = 3;
/** ExitStandby / RegisterTargets refused as retryable: tried this many times, a poll interval apart. */
const UNDRAIN_ATTEMPTS = 30;
/** How often and how long to look again while members are still EnteringStandby (their targets drain). */
const DRAIN_WAIT = 30_000;
/** 65 minutes: AWS allows a deregistration delay of up to 3,600 s. */
const DRAIN_WAITS = 130;

function toDrain(b: BatchState): ItemState[] {
  return b.items.filter((i) => i.phase === 'pending' && i.remedy !== 'reschedule');
}

/**
 * Reads the groups and targets, then puts members in Standby and deregisters targets, then reads again to
 * see it done (a call's reply is not proof: re-read). Returns 'next' once every live item is drained; an
 * item that could not be drained after DRAIN_ATTEMPTS reads is dropped, never acted on undrained.
 */
export function runDrain(step: Step, b: BatchState): 'yield' | 'next' {
  const live = toDrain(b);
  if (step.s.dryRun || live.length === 0) return 'next';
  const asgs = [...new Set(live.flatMap((i) => (i.asg === undefined ? [] : [i.asg])))].sort();
  const direct = live.filter((i) => i.asg === undefined).map((i) => i.instanceId);
  if (!step.answered.has('describe-groups') && !step.answered.has('describe-targets')) {
    noteFailures(step, b);
    if (asgs.length > 0) step.issue({ kind: 'describe-groups', groups: asgs });
    for (const c of chunks(direct, DESCRIBE_BATCH)) step.issue({ kind: 'describe-targets', instanceIds: c });
    return asgs.length === 0 && direct.length === 0 ? 'next' : 'yield';
  }
  const { standby, entering } = standbyNeeded(step, b, live);
  const targets = deregistrationNeeded(step, live);
  if (standby.size === 0 && targets.size === 0) {
    if (entering.length === 0) return 'next';
    // EnteringStandby lasts until the member's targets have drained: look again shortly.
    b.drainWaits = (b.drainWaits ?? 0) + 1;
    if (b.drainWaits <= DRAIN_WAITS) {
      step.wakeAt(step.now + DRAIN_WAIT);
      step.consume();
      return 'yield';
    }
    for (const item of entering)
      step.drop(
        item,
        b.index,
        `not-drained: still entering Standby in ${item.asg} after ${(DRAIN_WAITS * DRAIN_WAIT) / 60_000} min`,
      );
    return 'next';
  }
  b.drainAttempts = (b.drainAttempts ?? 0) + 1;
  if (b.drainAttempts > DRAIN_ATTEMPTS) {
    const serving = new Set([...targets.values()].flat());
    const notInStandby = new Set(
      [...standby.values()].flatMap((calls) => calls.flatMap((c) => c.instanceIds)),
    );
    for (const item of live) {
      if (!notInStandby.has(item.instanceId) && !serving.has(item.instanceId)) continue;
      const what = notInStandby.has(item.instanceId)
        ? `not in Standby in ${item.asg}`
        : 'still registered in a target group';
      step.drop(item, b.index, `not-drained: ${what} (${item.reason ?? 'no answer'})`);
    }
    return 'next';
  }
  // Marked before the call: whatever happens next (a halt, a lost reply), undrain tries to undo it, and an
  // undo of what never happened is refused harmlessly.
  const byId = new Map(live.map((i) => [i.instanceId, i]));
  for (const [name, calls] of standby) {
    for (const c of calls) {
      for (const id of c.instanceIds) {
        const item = byId.get(id);
        if (item) item.standbyIn = name;
      }
      step.issue({ kind: 'enter-standby', group: name, ...c });
    }
  }
  for (const [arn, ids] of [...targets].sort(([a], [c]) => (a < c ? -1 : 1))) {
    for (const id of ids) {
      const item = byId.get(id);
      if (item) item.deregisteredFrom = [...new Set([...(item.deregisteredFrom ?? []), arn])];
    }
    for (const c of chunks(ids, DESCRIBE_BATCH))
      step.issue({ kind: 'deregister-targets', targetGroupArn: arn, instanceIds: c });
  }
  return 'yield';
}

/** The batch's items by instance id: the first with each id, as `items.find` would give (one lookup each). */
function itemFinder(b: BatchState): (instanceId: string) => ItemState | undefined {
  const byId = new Map<string, ItemState>();
  for (const i of b.items) if (!byId.has(i.instanceId)) byId.set(i.instanceId, i);
  return (instanceId) => byId.get(instanceId);
}

function noteFailures(step: Step, b: BatchState): void {
  const find = itemFinder(b);
  for (const kind of ['enter-standby', 'deregister-targets'] as const) {
    for (const o of step.outcomesOf(kind)) {
      const item = find(o.instanceId);
      if (item && !o.ok) item.reason = `${kind}: ${o.error ?? 'unknown error'}`;
    }
  }
}

type StandbyCalls = Map<string, Array<{ instanceIds: string[]; decrementDesired: boolean }>>;

/**
 * Per group, the EnterStandby calls still needed (≤ 20 ids each). Marks members in (or entering) Standby;
 * drops members whose group is gone or whose lifecycle state allows no Standby (Pending, Terminating…).
 */
function standbyNeeded(
  step: Step,
  b: BatchState,
  live: readonly ItemState[],
): { standby: StandbyCalls; entering: ItemState[] } {
  const standby: StandbyCalls = new Map();
  const entering: ItemState[] = [];
  const ready = new Map<string, string[]>();
  for (const item of live) {
    if (item.asg === undefined || item.phase !== 'pending') continue;
    const group = step.groups.get(item.asg);
    const state = group?.members[item.instanceId];
    if (state === 'Standby' || state === 'EnteringStandby') item.standbyIn = item.asg;
    if (state === 'EnteringStandby') entering.push(item);
    else if (state === 'InService') ready.set(item.asg, [...(ready.get(item.asg) ?? []), item.instanceId]);
    else if (state !== 'Standby')
      step.drop(
        item,
        b.index,
        `not-drained: ${group ? `lifecycle state ${state ?? 'absent'} in ${item.asg}` : `Auto Scaling group ${item.asg} was not found`}`,
      );
  }
  for (const [name, ids] of [...ready].sort(([a], [c]) => (a < c ? -1 : 1))) {
    const group = step.groups.get(name);
    if (!group) continue;
    // Decrement desired capacity only while it stays at or above MinSize; past that, AWS launches
    // replacements, and ExitStandby later raises desired by as many: only while that stays ≤ MaxSize, or
    // the member could never come back.
    let room = Math.max(0, group.desiredCapacity - group.minSize);
    let headroom = Math.max(0, group.maxSize - group.desiredCapacity);
    const calls: Array<{ instanceIds: string[]; decrementDesired: boolean }> = [];
    for (const instanceIds of chunks(ids, STANDBY_BATCH)) {
      if (room >= instanceIds.length) {
        room -= instanceIds.length;
        calls.push({ instanceIds, decrementDesired: true });
      } else if (headroom >= instanceIds.length) {
        headroom -= instanceIds.length;
        calls.push({ instanceIds, decrementDesired: false });
      } else {
        for (const item of live.filter((i) => instanceIds.includes(i.instanceId)))
          step.drop(
            item,
            b.index,
            `not-drained: ${name} is at MinSize and MaxSize: a member in Standby could not come back`,
          );
      }
    }
    if (calls.length > 0) standby.set(name, calls);
  }
  return { standby, entering };
}

/** Per target group, the instances still serving; marks items already draining or gone from it. */
function deregistrationNeeded(step: Step, live: readonly ItemState[]): Map<string, string[]> {
  const byItem = new Map(live.map((i) => [i.instanceId, i]));
  const out = new Map<string, string[]>();
  for (const t of step.targets) {
    const item = byItem.get(t.instanceId);
    if (!item || item.asg !== undefined) continue;
    if (t.state === 'draining' || t.state === 'unused') {
      item.deregisteredFrom = [...new Set([...(item.deregisteredFrom ?? []), t.targetGroupArn])];
      continue;
    }
    out.set(t.targetGroupArn, [...(out.get(t.targetGroupArn) ?? []), t.instanceId]);
    const b = step.s.current;
    if (b) b.drainedUntil = Math.max(b.drainedUntil ?? 0, step.now + t.deregistrationDelayMs);
  }
  return out;
}

/** Exit Standby and register targets again for every drained item; 'next' when nothing is left to undo. */
export function runUndrain(step: Step, b: BatchState): 'yield' | 'next' {
  const find = itemFinder(b);
  for (const o of step.outcomesOf('exit-standby')) {
    const item = find(o.instanceId);
    if (item && (o.ok || !o.retryable)) {
      if (!o.ok) step.recordItem(item, b.index, 'exit-standby-failed', { error: o.error });
      delete item.standbyIn;
    }
  }
  for (const o of step.outcomesOf('register-targets')) {
    const item = find(o.instanceId);
    if (item && (o.ok || !o.retryable)) {
      if (!o.ok) step.recordItem(item, b.index, 'register-failed', { error: o.error });
      delete item.deregisteredFrom;
    }
  }
  const left = b.items.filter((i) => i.standbyIn !== undefined || (i.deregisteredFrom?.length ?? 0) > 0);
  if (left.length === 0) return 'next';
  const refused = step.answered.has('exit-standby') || step.answered.has('register-targets');
  if (refused) {
    // Refused as retryable (ResourceContention, throttling): another update to the group is pending, and
    // asking again at once would meet it again. Try again after a poll interval.
    if ((b.undrainAttempts ?? 0) >= UNDRAIN_ATTEMPTS) {
      for (const i of left)
        step.recordItem(i, b.index, 'left-drained', {
          standbyIn: i.standbyIn,
          deregisteredFrom: i.deregisteredFrom,
          note: 'undo refused; take it back by hand',
        });
      return 'next';
    }
    step.wakeAt(step.now + step.config.verification.pollInterval);
    step.consume();
    return 'yield';
  }
  b.undrainAttempts = (b.undrainAttempts ?? 0) + 1;
  let issued = 0;
  const byAsg = new Map<string, string[]>();
  const byTarget = new Map<string, string[]>();
  for (const i of b.items) {
    if (i.standbyIn !== undefined) byAsg.set(i.standbyIn, [...(byAsg.get(i.standbyIn) ?? []), i.instanceId]);
    for (const arn of i.deregisteredFrom ?? [])
      byTarget.set(arn, [...(byTarget.get(arn) ?? []), i.instanceId]);
  }
  for (const [group, ids] of byAsg) {
    for (const c of chunks(ids, STANDBY_BATCH)) {
      step.issue({ kind: 'exit-standby', group, instanceIds: c });
      issued++;
    }
  }
  for (const [arn, ids] of byTarget) {
    for (const c of chunks(ids, DESCRIBE_BATCH)) {
      step.issue({ kind: 'register-targets', targetGroupArn: arn, instanceIds: c });
      issued++;
    }
  }
  return issued > 0 ? 'yield' : 'next';
}
