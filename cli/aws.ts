/**
 * The AWS side of the operator commands: the clients (injected by tests, else built from the SDK's default
 * chain: credentials, home Region, AWS_ENDPOINT_URL), where the ledger table is, and AWS errors as one line
 * naming the call that failed.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { READ_ATTEMPTS } from '../lambda/aws/clients';
import { describeError } from '../lambda/aws/errors';
import { UsageError } from './io';

/** The stack `cdk deploy` creates (bin/forestall.ts) and its output naming the ledger table. */
export const STACK_NAME = 'Forestall';
export const TABLE_OUTPUT = 'LedgerTableName';

export interface OperatorAws {
  readonly doc: DynamoDBDocumentClient;
  readonly sfn: Pick<SFNClient, 'send'>;
  /** For finding the table when neither --table nor FORESTALL_TABLE names it (default: the SDK chain's). */
  readonly cfn?: Pick<CloudFormationClient, 'send'>;
  /** Who the caller is (an IAM ARN, say), recorded as `decidedBy`; `$USER` when absent or unknown. */
  readonly identity?: () => Promise<string | undefined>;
}

/** What a failed AWS call is called in the error line (`DynamoDB UpdateItem`). */
const CALL = Symbol('forestall.awsCall');

interface LabelStack {
  add(
    mw: (
      next: (args: never) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: never) => Promise<unknown>,
    opts: { step: 'initialize'; name: string },
  ): void;
}

/** Marks every error of `stack`'s calls with the service and operation, leaving the error itself as is. */
function labelCalls(stack: LabelStack, service: string): void {
  stack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (e) {
        if (typeof e === 'object' && e !== null && !(CALL in e))
          Object.defineProperty(e, CALL, {
            value: `${service} ${(context.commandName ?? 'call').replace(/Command$/, '')}`,
          });
        throw e;
      }
    },
    { step: 'initialize', name: 'forestallLabelCall' },
  );
}

/** `DynamoDB GetItem failed: AccessDeniedException: ...` for an AWS error, else undefined. */
export function awsErrorLine(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const call = (e as { [CALL]?: string })[CALL];
  if (call === undefined && !('$metadata' in e)) return undefined;
  return `${call ?? 'an AWS call'} failed: ${describeError(e)}`;
}

/** The clients for the operator commands: built on first use (plan and simulate need none), then closed. */
export class OperatorSession {
  private built: (OperatorAws & { destroy(): void }) | undefined;

  constructor(private readonly injected?: OperatorAws) {}

  get aws(): OperatorAws {
    if (this.injected) return this.injected;
    this.built ??= defaultAws();
    return this.built;
  }

  /** Releases the connections of clients this session built (injected ones are the caller's). */
  close(): void {
    this.built?.destroy();
  }

  /** The ledger table: --table, else $FORESTALL_TABLE, else the Forestall stack's output. */
  async table(flag: string | undefined): Promise<string> {
    if (flag) return flag;
    const env = process.env.FORESTALL_TABLE;
    if (env) return env;
    if (!this.aws.cfn) this.built ??= defaultAws();
    const cfn = this.aws.cfn ?? this.built?.cfn;
    const hint = `pass --table, set FORESTALL_TABLE, or set AWS_REGION to the Region the ${STACK_NAME} stack is deployed in`;
    let outputs: { OutputKey?: string; OutputValue?: string }[];
    try {
      const r = await cfn?.send(new DescribeStacksCommand({ StackName: STACK_NAME }));
      outputs = r?.Stacks?.[0]?.Outputs ?? [];
    } catch (e) {
      if ((e as { name?: string }).name !== 'ValidationError') throw e;
      throw new UsageError(
        `cannot find the ledger table: no CloudFormation stack ${STACK_NAME} (DescribeStacks: ${(e as Error).message}); ${hint}`,
      );
    }
    const table = outputs.find((o) => o.OutputKey === TABLE_OUTPUT)?.OutputValue;
    if (!table)
      throw new UsageError(
        `cannot find the ledger table: stack ${STACK_NAME} has no output ${TABLE_OUTPUT}; ${hint}`,
      );
    return table;
  }

  /** The caller, for the audit: its AWS identity when the session knows it cheaply, else `$USER`. */
  async caller(): Promise<string> {
    const id = await this.aws.identity?.();
    return id ?? process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}

function defaultAws(): OperatorAws & { destroy(): void } {
  // Region, credentials and endpoint from the SDK's default chain; the table lives in the home Region.
  const config = { retryMode: 'adaptive', maxAttempts: READ_ATTEMPTS } as const;
  const ddb = new DynamoDBClient(config);
  const sfn = new SFNClient(config);
  const cfn = new CloudFormationClient(config);
  labelCalls(ddb.middlewareStack, 'DynamoDB');
  labelCalls(sfn.middlewareStack, 'Step Functions');
  labelCalls(cfn.middlewareStack, 'CloudFormation');
  return {
    doc: DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } }),
    sfn,
    cfn,
    destroy: () => {
      ddb.destroy();
      sfn.destroy();
      cfn.destroy();
    },
  };
}
