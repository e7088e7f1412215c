/**
 * Runs the rollout machine's commands against the ports and returns what the world answered. Shared by
 * every driver (the local loop, the Lambda handlers). Mutating calls are exactly-once per command id:
 * claim → call → record the outcome; a replay finds the claim and returns the recorded outcome, or, if the
 * step died between the call and the record, `ambiguous` (the machine then re-reads EC2, never re-sends).
 */
import type { Command, MutatingCommand, Observation } from './machine/commands';
import type { ActionOutcome, DrainPort, Ports } from './ports';

export async function executeCommand(
  ports: Ports,
  rolloutId: string,
  c: Command,
): Promise<Observation | undefined> {
  switch (c.kind) {
    case 'load-batch': {
      const batch = await ports.ledger.getPlanBatch(rolloutId, c.batch);
      if (!batch) throw new Error(`rollout ${rolloutId}: the ledger has no batch ${c.batch} of its plan`);
      return { kind: 'batch', id: c.id, batch };
    }
    case 'describe-status':
      return { kind: 'statuses', id: c.id, statuses: await ports.fleet.describeStatus(c.instanceIds) };
    case 'describe-facts':
      return { kind: 'facts', id: c.id, facts: await ports.fleet.describeFacts(c.instanceIds) };
    case 'describe-groups':
      return {
        kind: 'groups',
        id: c.id,
        groups: ports.drain ? await ports.drain.describeGroups(c.groups) : [],
      };
    case 'describe-targets':
      return {
        kind: 'targets',
        id: c.id,
        targets: ports.drain ? await ports.drain.describeTargets(c.instanceIds) : [],
      };
    case 'emit':
      // At least once: skipped only when a previous run recorded it sent.
      if (await ports.ledger.claimed(`emit#${c.id}`)) return undefined;
      await ports.reporter.emit(c.event, c.id);
      await ports.ledger.claim(`emit#${c.id}`, ports.clock.now());
      return undefined;
    case 'record':
      await ports.ledger.record(c.id, c.entry);
      return undefined;
    case 'request-approval': {
      // Asked until a request got through (then recorded); every later command only checks for the decision.
      if (!(await ports.ledger.claimed(`approval#${c.token}`))) {
        await ports.approvals.request({ rolloutId, batch: c.batch, wave: c.wave, token: c.token });
        await ports.ledger.claim(`approval#${c.token}`, ports.clock.now());
      }
      const decision = await ports.approvals.decision(c.token);
      return decision === undefined ? undefined : { kind: 'approval', token: c.token, decision };
    }
    case 'wait-until':
      if (ports.clock.now() < c.at) await ports.clock.sleepUntil(c.at);
      return undefined;
    default:
      return { kind: 'outcomes', id: c.id, outcomes: await claimed(ports, c) };
  }
}

function idsOf(c: MutatingCommand): readonly string[] {
  return c.kind === 'reschedule' ? [c.instanceId] : c.instanceIds;
}

async function claimed(ports: Ports, c: MutatingCommand): Promise<readonly ActionOutcome[]> {
  const { ledger, clock } = ports;
  if (!(await ledger.claim(`call#${c.id}`, clock.now()))) {
    const prior = await ledger.getOutcome(`call#${c.id}`);
    return (
      prior ??
      idsOf(c).map((instanceId) => ({
        instanceId,
        ok: false,
        ambiguous: true,
        error: 'outcome unknown: the call was claimed by an earlier run that stopped before recording it',
      }))
    );
  }
  const outcomes = await call(ports, c);
  await ledger.putOutcome(`call#${c.id}`, outcomes);
  return outcomes;
}

async function call(ports: Ports, c: MutatingCommand): Promise<readonly ActionOutcome[]> {
  const { fleet } = ports;
  switch (c.kind) {
    case 'reboot':
      return fleet.reboot(c.instanceIds);
    case 'stop':
      return fleet.stop(c.instanceIds);
    case 'start':
      return fleet.start(c.instanceIds);
    case 'reschedule':
      return [await fleet.reschedule(c.instanceId, c.eventId, c.notBefore)];
    default:
      return drainCall(ports.drain, c);
  }
}

function drainCall(
  drain: DrainPort | undefined,
  c: MutatingCommand,
): Promise<readonly ActionOutcome[]> | readonly ActionOutcome[] {
  if (!drain)
    return idsOf(c).map((instanceId) => ({ instanceId, ok: false, error: 'no drain port configured' }));
  switch (c.kind) {
    case 'enter-standby':
      return drain.enterStandby(c.group, c.instanceIds, c.decrementDesired);
    case 'exit-standby':
      return drain.exitStandby(c.group, c.instanceIds);
    case 'deregister-targets':
      return drain.deregisterTargets(c.targetGroupArn, c.instanceIds);
    case 'register-targets':
      return drain.registerTargets(c.targetGroupArn, c.instanceIds);
    default:
      throw new Error(`not a drain command: ${c.kind}`);
  }
}
