/** The Lambdas' environment, read once into a frozen object; a missing variable fails the first invocation. */
import { type Config, parseConfig } from '../core/config';

export interface HandlerEnv {
  /** The ledger table (in the home Region). */
  readonly table: string;
  /** The `forestall` event bus (in the home Region). */
  readonly bus: string;
  readonly homeRegion: string;
  readonly config: Config;
  /** The rollout state machine; without it (tests of detection alone) no rollout is started. */
  readonly stateMachineArn?: string;
  /** MaxResults of whole-Region Describe pages (tests set it low to exercise pagination). */
  readonly pageSize?: number;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`environment variable ${name} is not set`);
  return v;
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): HandlerEnv {
  const page = env.FORESTALL_PAGE_SIZE;
  const machine = env.FORESTALL_STATE_MACHINE;
  return Object.freeze({
    table: required(env, 'FORESTALL_TABLE'),
    bus: required(env, 'FORESTALL_BUS'),
    homeRegion: required(env, 'AWS_REGION'),
    config: parseConfig(JSON.parse(required(env, 'FORESTALL_CONFIG')), 'FORESTALL_CONFIG'),
    ...(page ? { pageSize: Number(page) } : {}),
    ...(machine ? { stateMachineArn: machine } : {}),
  });
}
