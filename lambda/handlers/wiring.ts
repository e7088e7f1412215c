/**
 * The handlers' ports, made once per container: the ledger and reporter in the home Region, one EC2 fleet
 * adapter per watched Region (its instance-type cache lives as long as the container). Clients are traced.
 */
import type { Context } from 'aws-lambda';
import { countRetries, createClients } from '../aws/clients';
import { Ec2Fleet } from '../aws/ec2-fleet';
import { DynamoNoticeLedger } from '../aws/notice-ledger';
import { EventBridgeReporter } from '../aws/reporter';
import { type HandlerEnv, readEnv } from './env';
import { logger, tracer } from './observability';
import type { SyncDeps } from './sync';

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

interface Wiring {
  readonly env: HandlerEnv;
  depsFor(region: string): SyncDeps;
}

let wiring: Wiring | undefined;

export function wired(): Wiring {
  if (wiring) return wiring;
  const env = readEnv();
  const home = createClients(env.homeRegion, trace);
  const ledger = new DynamoNoticeLedger(home.ledger, env.table);
  const reporter = new EventBridgeReporter(home.events, env.bus);
  const fleets = new Map<string, Ec2Fleet>();
  wiring = {
    env,
    depsFor(region) {
      let fleet = fleets.get(region);
      if (!fleet) {
        const c = region === env.homeRegion ? home : createClients(region, trace);
        fleet = new Ec2Fleet(region, countRetries(c.ec2Read, countRetry), c.ec2Write, {
          onThrottle: () => countRetry(1),
          onRejected: (rejected) => logger.warn('EC2 output not understood', { region, rejected }),
          ...(env.pageSize ? { pageSize: env.pageSize } : {}),
        });
        fleets.set(region, fleet);
      }
      return { fleet, ledger, reporter };
    },
  };
  return wiring;
}

/** The account the function runs in, from its ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME). */
export function accountOf(context: Pick<Context, 'invokedFunctionArn'>): string | undefined {
  const account = context.invokedFunctionArn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}
