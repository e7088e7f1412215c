/**
 * One end-to-end world per test file: the moto launcher, the ledger table, the bus → SQS capture, the
 * rollout state machine (synthesized, created in moto, run locally), a fleet of ASG members and standalone
 * instances carrying the opt-in tag, and the real poll handler that finds their events and starts rollouts.
 * One file, one config: the handlers read theirs once per process, as a Lambda container does.
 */

import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstanceStatusCommand, DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { handler as pollHandler } from '../../lambda/handlers/poll';
import { type BusCapture, busToQueue, createLedgerTable } from '../aws/moto/aws-resources';
import { createGroup, testAutoScaling } from '../aws/moto/drain';
import { launch, testEc2 } from '../aws/moto/fleet';
import { ACCOUNT, lambdaContext } from '../aws/moto/handlers';
import type { LoggedRequest, MotoServer, SeedEvent } from '../aws/moto/server';
import { type Hooks, LocalStepFunctions, synthesizedDefinition, VirtualClock } from './harness';

export const DAY = 86_400_000;
export const OPT_IN = { 'forestall:managed': 'true' } as const;

/** The config every scenario starts from: due at once (leadTime 4 days > the events' 3), three waves. */
export function baseConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    dryRun: false,
    regions: ['us-east-1'],
    pollIntervalMinutes: 5,
    leadTime: 'P4D',
    deadlineMargin: 'PT2H',
    maxUnavailablePerGroup: 1,
    waves: [
      {
        name: 'canary',
        match: { tags: { 'forestall:wave': 'canary' } },
        maxParallel: 1,
        bake: 'PT10M',
        failureBudget: 0,
      },
      {
        name: 'early',
        match: { tags: { 'forestall:wave': 'early' } },
        maxParallel: 2,
        bake: 'PT10M',
        failureBudget: 0,
      },
      { name: 'main', maxParallel: '50%', bake: 'PT5M', failureBudget: 0 },
    ],
    ...over,
  };
}

export interface World {
  readonly moto: MotoServer;
  readonly ec2: EC2Client;
  readonly bus: BusCapture;
  readonly time: VirtualClock;
  readonly sfn: LocalStepFunctions;
}

/** Tables, bus, state machine and clock for `config`; the handlers' environment points at them. */
export async function world(
  moto: MotoServer,
  config: Record<string, unknown>,
  hooks: Hooks = {},
): Promise<World> {
  const { definition, name } = synthesizedDefinition(config);
  const time = new VirtualClock(moto);
  const sfn = new LocalStepFunctions(definition, name, moto, time, hooks);
  Object.assign(process.env, {
    FORESTALL_TABLE: await createLedgerTable('forestall-ledger'),
    FORESTALL_BUS: 'forestall',
    FORESTALL_CONFIG: JSON.stringify(config),
    FORESTALL_STATE_MACHINE: await sfn.create(),
  });
  const bus = await busToQueue('forestall');
  return { moto, ec2: testEc2(), bus, time, sfn };
}

/** An Auto Scaling group whose members carry the opt-in tag (and `tags`), propagated from the group. */
export function group(
  w: World,
  name: string,
  size: number,
  tags: Record<string, string> = {},
): Promise<string[]> {
  return createGroup(w.ec2, { name, min: 0, max: size + 2, desired: size, tags: { ...OPT_IN, ...tags } });
}

export function standalone(w: World, count: number, tags: Record<string, string> = {}): Promise<string[]> {
  return launch(w.ec2, { count, tags: { ...OPT_IN, ...tags } });
}

/** Scheduled events `code` on these instances, due 3 days from the virtual now. */
export async function schedule(
  w: World,
  ids: readonly string[],
  code: string,
  extra: Partial<SeedEvent> = {},
): Promise<string[]> {
  const notBefore = new Date(w.time.now() + 3 * DAY);
  return w.moto.seedEvents(
    ids.map((instanceId) => ({
      instanceId,
      code,
      notBefore,
      ...(code === 'instance-reboot' || code === 'system-reboot'
        ? { notBeforeDeadline: new Date(w.time.now() + 6 * DAY) }
        : {}),
      ...extra,
    })),
  );
}

/**
 * AWS performing the events whose time has come (the launcher does not by itself): each open event whose
 * NotBefore passed on the virtual clock becomes `[Completed]`. For a Step hook.
 */
export async function awsPerformsDueEvents(w: World): Promise<void> {
  const r = await fetch(`${w.moto.endpoint}/moto-api/forestall/events`);
  const events = (await r.json()) as Record<
    string,
    { InstanceEventId: string; NotBefore: string; Description: string }[]
  >;
  for (const [instanceId, list] of Object.entries(events))
    for (const e of list)
      if (!/^\[(Completed|Canceled)\]/.test(e.Description) && Date.parse(e.NotBefore) <= w.time.now())
        await w.moto.clearEvent(instanceId, e.InstanceEventId, 'completed');
}

/** The real poll handler: finds the events, reports them, starts the Region's rollout. */
export function poll(): ReturnType<typeof pollHandler> {
  return pollHandler({}, lambdaContext(`poll-${Math.random().toString(36).slice(2)}`));
}

/** Open (not completed, not canceled) events per instance, as EC2 reports them. */
export async function openEvents(w: World, ids: readonly string[]): Promise<Map<string, string[]>> {
  const r = await w.ec2.send(
    new DescribeInstanceStatusCommand({ InstanceIds: [...ids], IncludeAllInstances: true }),
  );
  const out = new Map<string, string[]>();
  for (const s of r.InstanceStatuses ?? []) {
    const open = (s.Events ?? [])
      .filter((e) => !/^\[(Completed|Canceled)\]/.test(e.Description ?? ''))
      .map((e) => e.Code ?? '');
    if (open.length > 0) out.set(s.InstanceId ?? '', open);
  }
  return out;
}

export async function instanceStates(w: World, ids: readonly string[]): Promise<Record<string, string>> {
  const r = await w.ec2.send(new DescribeInstancesCommand({ InstanceIds: [...ids] }));
  const out: Record<string, string> = {};
  for (const res of r.Reservations ?? [])
    for (const i of res.Instances ?? []) out[i.InstanceId ?? ''] = i.State?.Name ?? '';
  return out;
}

/** Lifecycle state of each member of these groups. */
export async function lifecycles(names: readonly string[]): Promise<Record<string, string>> {
  const r = await testAutoScaling().send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [...names] }),
  );
  const out: Record<string, string> = {};
  for (const g of r.AutoScalingGroups ?? [])
    for (const i of g.Instances ?? []) out[i.InstanceId ?? ''] = i.LifecycleState ?? '';
  return out;
}

/** The instance ids a logged request named (EC2 `InstanceId.N`, Auto Scaling `InstanceIds.member.N`). */
export function idsIn(r: LoggedRequest): string[] {
  return Object.entries(r.params ?? {})
    .filter(([k]) => /^InstanceIds?\.(member\.)?\d+$/.test(k) || k === 'InstanceId')
    .map(([, v]) => v);
}

export const MUTATING = new Set([
  'RebootInstances',
  'StopInstances',
  'StartInstances',
  'ModifyInstanceEventStartTime',
  'EnterStandby',
  'ExitStandby',
  'RegisterTargets',
  'DeregisterTargets',
]);

export { ACCOUNT };
