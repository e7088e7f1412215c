/**
 * The one Lambda function construct every Forestall handler uses: NodejsFunction on nodejs22.x, arm64, JSON
 * logs with a retained log group, X-Ray tracing, bundled with esbuild (the AWS SDK included, so the code runs
 * on the SDK version the tests ran). Environment and grants are bound together (`bindLedger`, `bindBus`).
 */

import { join } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

export interface HandlerFunctionProps {
  /** File name under lambda/handlers/ without `.ts` (`poll`, `health-intake`). */
  readonly handler: string;
  readonly description: string;
  /** @default Duration.minutes(1) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Merged over the function's own variables (the caller's win). */
  readonly environment?: Readonly<Record<string, string>>;
}

const HANDLERS = join(__dirname, '..', 'lambda', 'handlers');

/**
 * esbuild settings (scripts/measure-handlers.ts measures the same): the AWS SDK is bundled, and its ES
 * module build is preferred so that unused EC2 commands are tree-shaken (a third off the cold start).
 */
export const BUNDLING = {
  minify: true,
  sourceMap: true,
  target: 'node22',
  format: OutputFormat.CJS,
  externalModules: [],
  mainFields: ['module', 'main'],
};

export class HandlerFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    super(scope, id, {
      entry: join(HANDLERS, `${props.handler}.ts`),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.minutes(1),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup,
      environment: { POWERTOOLS_SERVICE_NAME: 'forestall', ...props.environment },
      bundling: BUNDLING,
    });
    this.addEnvironment('NODE_OPTIONS', '--enable-source-maps');
    Validations.of(this).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose (supported, and the bundles target node22); moving to nodejs24.x is a deliberate upgrade, not a side effect of a new CDK release.',
    });
  }

  /** FORESTALL_TABLE and read/write on the ledger table. */
  bindLedger(table: ITable): this {
    this.addEnvironment('FORESTALL_TABLE', table.tableName);
    table.grantReadWriteData(this);
    return this;
  }

  /** FORESTALL_BUS and events:PutEvents on the bus. */
  bindBus(bus: IEventBus): this {
    this.addEnvironment('FORESTALL_BUS', bus.eventBusName);
    bus.grantPutEventsTo(this);
    return this;
  }

  /**
   * The EC2 Describe calls the intake makes. They have no resource-level permissions, so the resource is `*`
   * (the only wildcard Forestall's intake holds; no mutating EC2 action).
   */
  allowEc2Describe(): this {
    this.addToRolePolicy(
      new PolicyStatement({
        actions: ['ec2:DescribeInstanceStatus', 'ec2:DescribeInstances', 'ec2:DescribeInstanceTypes'],
        resources: ['*'],
      }),
    );
    return this;
  }
}
