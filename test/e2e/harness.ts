/**
 * The end-to-end harness: the rollout state machine as synthesized by CDK, run by aws-local-stepfunctions,
 * every Task bound to the real handler, every adapter pointed at the moto launcher (EC2, Auto Scaling,
 * DynamoDB, EventBridge → SQS, Step Functions' execution records).
 *
 * Step Functions itself is played in two halves: moto keeps the executions (StartExecution from the poll and
 * from StartNext go over the wire, so names are unique and a duplicate start is refused as AWS refuses it),
 * and aws-local-stepfunctions runs each execution moto holds, once, then closes it there (StopExecution).
 * Time is virtual: a Wait state advances the handlers' clock and moto's to its timestamp at once.
 */
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  type ExecutionListItem,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Context } from 'aws-lambda';
import type * as LocalSfn from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };
import { parseConfig } from '../../lambda/core/config';
import { type ExecutionShape, historyEvents } from '../../lambda/core/sfn-moves';
import { handler as approvalHandler } from '../../lambda/handlers/approval-wait';
import { handler as planHandler } from '../../lambda/handlers/plan';
import { handler as stepHandler } from '../../lambda/handlers/step';
import { clock } from '../../lambda/handlers/wiring';
import { ForestallStack } from '../../lib/forestall-stack';
import { ACCOUNT } from '../aws/moto/handlers';
import type { MotoServer } from '../aws/moto/server';

// The package's types are ES module declarations; its CommonJS build is what jest loads.
const { StateMachine } = require('aws-local-stepfunctions') as typeof LocalSfn;

const REGION = 'us-east-1';

type Json = Record<string, unknown>;

/** The state machine definition from the synthesized template, with its ARNs made concrete. */
export function synthesizedDefinition(configSource: object): { definition: Json; name: string } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config = parseConfig(configSource);
  const stack = new ForestallStack(app, 'Forestall', {
    config,
    configSource,
    env: { region: REGION, account: ACCOUNT },
  });
  const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines) as {
    Properties: { DefinitionString: unknown; StateMachineName: string };
  }[];
  if (!machine) throw new Error('no state machine in the template');
  return {
    definition: JSON.parse(resolve(machine.Properties.DefinitionString)),
    name: machine.Properties.StateMachineName,
  };
}

/** CloudFormation's Fn::Join / Ref / Fn::GetAtt as CloudFormation would resolve them in this account. */
function resolve(v: unknown): string {
  if (typeof v === 'string') return v;
  const o = v as Json;
  if ('Fn::Join' in o) {
    const [sep, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(resolve).join(sep);
  }
  if ('Ref' in o) {
    const refs: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    const r = refs[o.Ref as string];
    if (!r) throw new Error(`unresolved Ref ${String(o.Ref)}`);
    return r;
  }
  if ('Fn::GetAtt' in o) {
    const [id] = o['Fn::GetAtt'] as [string, string];
    return `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`;
  }
  throw new Error(`cannot resolve ${JSON.stringify(v)}`);
}

/** The handlers' clock and moto's, moved together; real time runs on underneath. */
export class VirtualClock {
  private offset = 0;
  constructor(private readonly moto: MotoServer) {
    clock.now = () => Date.now() + this.offset;
  }
  now(): number {
    return Date.now() + this.offset;
  }
  async advanceTo(t: number): Promise<void> {
    if (t <= this.now()) return;
    this.offset = t - Date.now();
    await this.moto.setClockOffset(this.offset);
  }
}

/** What one execution did, counted from the local engine's event log. */
export interface ExecutionRun extends ExecutionShape {
  readonly name: string;
  readonly input: Json;
  /** History events as Step Functions writes them (see HISTORY_EVENTS), counted from the states visited. */
  readonly historyEvents: number;
  /** State transitions (states entered): what Standard workflows bill. */
  readonly transitions: number;
  readonly status: 'succeeded' | 'failed';
  readonly error?: string;
}

export interface Hooks {
  /** Called before each Step task with its input; throwing fails that attempt (the Retry re-runs it). */
  beforeStep?: (input: Json, attempt: number) => Promise<void> | void;
  /** Called after the real Step handler returned; throwing loses the reply (the work is done, then retried). */
  afterStep?: (input: Json, output: Json) => Promise<void> | void;
}

const lambdaContext = (name: string): Context =>
  ({
    awsRequestId: `${name}-${Math.random().toString(36).slice(2)}`,
    invokedFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`,
    getRemainingTimeInMillis: () => 600_000,
  }) as unknown as Context;

export class LocalStepFunctions {
  readonly runs: ExecutionRun[] = [];
  /** Wall time spent in each handler (ms) and its invocations: Lambda time, as far as moto lets us see it. */
  readonly lambda = { ms: 0, invocations: 0 };
  private readonly done = new Set<string>();
  private readonly sfn = new SFNClient({ region: REGION, maxAttempts: 1 });
  private readonly machine: LocalSfn.StateMachine;
  arn = '';

  constructor(
    private readonly definition: Json,
    private readonly name: string,
    private readonly moto: MotoServer,
    private readonly time: VirtualClock,
    readonly hooks: Hooks = {},
  ) {
    this.machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
  }

  /** Creates the state machine's record in moto (where the poll and StartNext start executions). */
  async create(): Promise<string> {
    const r = await this.sfn.send(
      new CreateStateMachineCommand({
        name: this.name,
        definition: JSON.stringify(this.definition),
        roleArn: `arn:aws:iam::${ACCOUNT}:role/forestall-rollout`,
      }),
    );
    this.arn = r.stateMachineArn ?? '';
    return this.arn;
  }

  /** Runs every execution moto holds as running, in start order, until none is left. */
  async drain(): Promise<ExecutionRun[]> {
    const ran: ExecutionRun[] = [];
    for (;;) {
      const listed = await this.sfn.send(
        new ListExecutionsCommand({ stateMachineArn: this.arn, statusFilter: 'RUNNING' }),
      );
      const next = (listed.executions ?? [])
        .filter((e) => !this.done.has(e.executionArn ?? ''))
        .sort((a, b) => Number(a.startDate) - Number(b.startDate))[0];
      if (!next) return ran;
      ran.push(await this.runOne(next));
    }
  }

  private async runOne(item: ExecutionListItem): Promise<ExecutionRun> {
    const arn = item.executionArn ?? '';
    this.done.add(arn);
    const described = await this.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    const input = JSON.parse(described.input ?? '{}') as Json;
    const name = item.name ?? '';
    const execution = this.machine.run(input as never, {
      overrides: {
        taskResourceLocalHandlers: this.taskHandlers(name) as never,
        waitTimeOverrides: { WaitTurn: 0 },
        retryIntervalOverrides: { Step: 0, Plan: 0, 'Start the next execution': 0 },
      },
      context: {
        StateMachine: { Id: this.arn, Name: this.name },
        Execution: { Id: arn, Name: name, Input: input as never, StartTime: new Date().toISOString() },
        Task: { Token: `task-token:${name}` },
      },
    });
    const counted = countEvents(execution.eventLogs as AsyncGenerator<Json>);
    let status: ExecutionRun['status'] = 'succeeded';
    let error: string | undefined;
    try {
      await execution.result;
    } catch (e) {
      status = 'failed';
      error = (e as Error).message;
    }
    const c = await counted;
    await this.sfn.send(new StopExecutionCommand({ executionArn: arn }));
    const run: ExecutionRun = { name, input, status, ...(error ? { error } : {}), ...c };
    this.runs.push(run);
    return run;
  }

  /** Times a handler call into `lambda`. */
  private async timed<T>(call: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await call();
    } finally {
      this.lambda.ms += performance.now() - t0;
      this.lambda.invocations++;
    }
  }

  private taskHandlers(execution: string): Record<string, (input: Json) => Promise<unknown>> {
    const attempts = new Map<string, number>();
    return {
      Plan: (input) => this.timed(() => planHandler(input)),
      Step: async (input) => {
        if (input.next === 'wait' && typeof input.wakeAt === 'string')
          await this.time.advanceTo(Date.parse(input.wakeAt));
        const key = JSON.stringify(input);
        const attempt = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, attempt);
        await this.hooks.beforeStep?.(input, attempt);
        const output = (await this.timed(() => stepHandler(input, lambdaContext('step')))) as unknown as Json;
        await this.hooks.afterStep?.(input, output);
        return output;
      },
      AwaitApproval: async (input) => {
        const payload = (input.Payload ?? input) as Json;
        await this.timed(() => approvalHandler(payload));
        await this.sentTaskSuccess(String(payload.taskToken), execution);
        return {};
      },
      'Start the next execution': async (input) => {
        try {
          return await this.sfn.send(
            new StartExecutionCommand({
              stateMachineArn: String(input.StateMachineArn),
              name: String(input.Name),
              input: JSON.stringify(input.Input),
            }),
          );
        } catch (e) {
          if (e instanceof ExecutionAlreadyExists)
            throw Object.assign(new Error(e.message), {
              name: 'StepFunctions.ExecutionAlreadyExistsException',
            });
          throw e;
        }
      },
    };
  }

  /** Resolves when someone (the CLI, the approval handler) sent SendTaskSuccess with this token to moto. */
  private async sentTaskSuccess(token: string, execution: string): Promise<void> {
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const sent = (await this.moto.requests()).some(
        (r) => r.action === 'SendTaskSuccess' && (r.params as Json | undefined)?.taskToken === token,
      );
      if (sent) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${execution}: nobody sent SendTaskSuccess for ${token} within 60 s`);
  }
}

type Counted = ExecutionShape & { readonly historyEvents: number; readonly transitions: number };

/** Reads an execution's event log and prices it in Step Functions history events (HISTORY_EVENTS). */
async function countEvents(logs: AsyncGenerator<Json>): Promise<Counted> {
  const integration = new Set(['AwaitApproval', 'Start the next execution']);
  let events = 0;
  let transitions = 0;
  let turns = 0;
  let waits = 0;
  let approvals = 0;
  let retries = 0;
  let planned = false;
  let handedOff = false;
  for await (const e of logs) {
    const state = (e.state as Json | undefined) ?? {};
    const name = String(state.name ?? '');
    switch (e.type) {
      case 'ExecutionStarted':
      case 'ExecutionSucceeded':
      case 'ExecutionFailed':
        events += 1;
        break;
      case 'StateEntered':
        events += 1;
        transitions += 1;
        if (state.type === 'Task') events += integration.has(name) ? 4 : 3;
        if (name === 'Step') turns++;
        if (name === 'WaitTurn') waits++;
        if (name === 'AwaitApproval') approvals++;
        if (name === 'Plan') planned = true;
        if (name === 'Start the next execution') handedOff = true;
        break;
      case 'StateExited':
        events += 1;
        break;
      case 'StateRetried':
        events += integration.has(name) ? 4 : 3;
        if (!integration.has(name)) retries++;
        break;
      default:
        break;
    }
  }
  return { historyEvents: events, transitions, turns, waits, approvals, retries, planned, handedOff };
}

/** The model's count for a run's shape (what the history-bound test prices 100,000 notices with). */
export const modelled = (r: ExecutionShape): number => historyEvents(r);
