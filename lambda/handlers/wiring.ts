/**
 * The handlers' ports, made once per container: the ledger and reporter in the home Region, one EC2 fleet
 * adapter per watched Region (its instance-type cache lives as long as the container). Clients are traced.
 */
import type { Context } from 'aws-lambda';
import { LedgerApprovals } from '../aws/approvals';
import { AwsDrain } from '../aws/asg-drain';
import { type Clients, countRetries, createClients } from '../aws/clients';
import { Ec2Fleet } from '../aws/ec2-fleet';
import { DynamoNoticeLedger } from '../aws/notice-ledger';
import { OptInDrain, OptInFleet } from '../aws/opt-in';
import { DynamoRegionRollouts } from '../aws/region-rollouts';
import { EventBridgeReporter } from '../aws/reporter';
import { DynamoRolloutLedger } from '../aws/rollout-ledger';
import type { Ports } from '../core/ports';
import { type HandlerEnv, readEnv } from './env';
import { logger, tracer } from './observability';
import type { SyncDeps } from './sync';
import { sfnClient, type TriggerDeps } from './trigger';

const trace = <C>(client: C): C => tracer.captureAWSv3Client(client);

let retries = 0;
/** EC2 calls retried since the last call (SDK retries of reads, throttled mutating calls): ApiRetries. */
export function takeApiRetries(): number {
  const n = retries;
  retries = 0;
  return n;
}
const countRetry = (n: number) => {
  retries += n;
};

/**
 * The handlers' clock. Only the end-to-end suite replaces `now` (it runs days of rollout in seconds, with the
 * moto launcher's clock moved alike); everything else reads the real time through it.
 */
export const clock = { now: (): number => Date.now() };

interface Wiring {
  readonly env: HandlerEnv;
  readonly ledger: DynamoNoticeLedger;
  readonly regions: DynamoRegionRollouts;
  readonly approvals: LedgerApprovals;
  readonly rollouts: DynamoRolloutLedger;
  depsFor(region: string): SyncDeps;
  /** The rollout machine's ports for one watched Region (ledger, bus and approvals in the home Region). */
  portsFor(region: string): Ports;
  /** What starting a rollout needs; undefined when no state machine is configured. */
  readonly trigger?: TriggerDeps;
}

let wiring: Wiring | undefined;

export function wired(): Wiring {
  if (wiring) return wiring;
  const env = readEnv();
  const home = createClients(env.homeRegion, trace);
  const ledger = new DynamoNoticeLedger(home.ledger, env.table);
  const reporter = new EventBridgeReporter(home.events, env.bus);
  const rollouts = new DynamoRolloutLedger(home.ledger, env.table);
  const approvals = new LedgerApprovals(home.ledger, env.table, () => clock.now());
  const fleets = new Map<string, Ec2Fleet>();
  const clients = new Map<string, Clients>([[env.homeRegion, home]]);
  /** One set of clients per Region for the container's life (not one per turn). */
  const clientsFor = (region: string): Clients => {
    let c = clients.get(region);
    if (!c) {
      c = createClients(region, trace);
      clients.set(region, c);
    }
    return c;
  };
  const fleetFor = (region: string): Ec2Fleet => {
    let fleet = fleets.get(region);
    if (!fleet) {
      const c = clientsFor(region);
      fleet = new Ec2Fleet(region, countRetries(c.ec2Read, countRetry), c.ec2Write, {
        onThrottle: () => countRetry(1),
        onRejected: (rejected) => logger.warn('EC2 output not understood', { region, rejected }),
        ...(env.pageSize ? { pageSize: env.pageSize } : {}),
      });
      fleets.set(region, fleet);
    }
    return fleet;
  };
  const w: Wiring = {
    env,
    ledger,
    regions: new DynamoRegionRollouts(home.ledger, env.table),
    approvals,
    rollouts,
    depsFor: (region) => ({ fleet: fleetFor(region), ledger, reporter }),
    portsFor: (region) => ({
      clock: {
        now: () => clock.now(),
        // Only waits shorter than a Wait state is worth (MIN_WAIT_MS) are slept in the Lambda.
        sleepUntil: (t) => new Promise((r) => setTimeout(r, Math.max(0, t - clock.now()))),
      },
      // Every mutating call re-checks the opt-in tag first (IAM's tag condition is the second guard).
      fleet: new OptInFleet(fleetFor(region), env.config.optInTag),
      // Made per turn: its cache of target groups lives as long as the turn, not the container.
      drain: new OptInDrain(
        new AwsDrain(clientsFor(region), { onThrottle: () => countRetry(1) }),
        fleetFor(region),
        env.config.optInTag,
      ),
      ledger: rollouts,
      reporter,
      approvals,
    }),
  };
  wiring = env.stateMachineArn
    ? {
        ...w,
        trigger: {
          config: env.config,
          notices: ledger,
          regions: w.regions,
          planned: async (rolloutId) => (await rollouts.loadStep(rolloutId)) !== undefined,
          sfn: trace(sfnClient(env.homeRegion)),
          stateMachineArn: env.stateMachineArn,
        },
      }
    : w;
  return wiring;
}

/** The account the function runs in, from its ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME). */
export function accountOf(context: Pick<Context, 'invokedFunctionArn'>): string | undefined {
  const account = context.invokedFunctionArn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}
