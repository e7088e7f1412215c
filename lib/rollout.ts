/**
 * The rollout in AWS: the Plan, Step and ApprovalWait functions and the state machine that drives them
 * (lambda/core/sfn-moves.ts). Each execution covers one batch: Step runs turns of the rollout machine
 * (preflight, approval, drain, act, verify, undrain, bake, gate all live in the machine), Wait states hold
 * the execution between turns, an approval waits for the operator with a task token, and StartNext hands the
 * rollout to the next execution under a deterministic name. Halting is the ledger's flag, read every turn.
 *
 * IAM: the only mutating actions are on resources carrying the operator's opt-in tag (aws:ResourceTag), in
 * the configured Regions of this account: EC2 Reboot/Stop/Start/ModifyInstanceEventStartTime on instances,
 * Auto Scaling Enter/ExitStandby on groups, ELBv2 Register/DeregisterTargets on target groups (ELBv2 checks
 * the target group's tags, not the instance's: a target group must carry the tag for Forestall to drain it).
 */
import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import {
  Choice,
  Condition,
  CustomState,
  DefinitionBody,
  Fail,
  IntegrationPattern,
  JsonPath,
  LogLevel,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { Config } from '../lambda/core/config';
import { APPROVAL_TIMEOUT } from '../lambda/core/machine/batch';
import { HandlerFunction } from './handler-function';

export interface RolloutProps {
  readonly config: Config;
  readonly configSource: unknown;
  readonly table: ITable;
  readonly bus: IEventBus;
  /** @default - alarms without actions */
  readonly alarmTopic?: ITopic;
}

/** Errors a Step or Plan task retries (Lambda's own, and the handler's: the turn is safe to run again). */
const RETRIED = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'States.TaskFailed',
];

export class Rollout extends Construct {
  readonly plan: HandlerFunction;
  readonly step: HandlerFunction;
  readonly approvalWait: HandlerFunction;
  readonly stateMachine: StateMachine;
  /** Known before the state machine exists (its name is fixed), so StartNext and the poll can name it. */
  readonly stateMachineArn: string;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: RolloutProps,
  ) {
    super(scope, id);
    const stack = Stack.of(this);
    const name = `${stack.stackName}-rollout`;
    this.stateMachineArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: name,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const environment = { FORESTALL_CONFIG: JSON.stringify(props.configSource ?? {}) };
    this.plan = new HandlerFunction(this, 'Plan', {
      handler: 'plan',
      description: 'Forestall: plans a rollout of the due notices of one Region',
      timeout: Duration.minutes(10),
      memorySize: 2048,
      environment,
    });
    this.step = new HandlerFunction(this, 'Step', {
      handler: 'step',
      description: 'Forestall: runs turns of a rollout (EC2, Auto Scaling Standby, load balancer targets)',
      timeout: Duration.minutes(10),
      memorySize: 1024,
      environment,
    });
    this.approvalWait = new HandlerFunction(this, 'ApprovalWait', {
      handler: 'approval-wait',
      description: 'Forestall: keeps the task token of a batch waiting for approval',
      environment,
    });
    for (const fn of [this.plan, this.step, this.approvalWait]) fn.bindLedger(props.table).bindBus(props.bus);
    this.plan.allowEc2Describe();
    this.step.allowEc2Describe();
    this.allowRemedies(props.config);
    this.approvalWait.addToRolePolicy(
      new PolicyStatement({ actions: ['states:SendTaskSuccess'], resources: ['*'] }),
    );
    this.stateMachine = this.machine(name);
    this.acknowledge();
    this.alarms(props);
  }

  /** The mutating calls, each only on resources that carry the opt-in tag, in the configured Regions. */
  private allowRemedies(config: Config): void {
    const stack = Stack.of(this);
    const tagged = { StringEquals: { [`aws:ResourceTag/${config.optInTag.key}`]: config.optInTag.value } };
    const arns = (
      service: string,
      resource: string,
      resourceName: string,
      sep = ArnFormat.SLASH_RESOURCE_NAME,
    ) =>
      config.regions.map((region) =>
        Arn.format({ service, resource, resourceName, region, arnFormat: sep }, stack),
      );
    this.step.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'ec2:RebootInstances',
          'ec2:StopInstances',
          'ec2:StartInstances',
          'ec2:ModifyInstanceEventStartTime',
        ],
        resources: arns('ec2', 'instance', '*'),
        conditions: tagged,
      }),
    );
    this.step.addToRolePolicy(
      new PolicyStatement({
        actions: ['autoscaling:EnterStandby', 'autoscaling:ExitStandby'],
        resources: arns(
          'autoscaling',
          'autoScalingGroup',
          '*:autoScalingGroupName/*',
          ArnFormat.COLON_RESOURCE_NAME,
        ),
        conditions: tagged,
      }),
    );
    this.step.addToRolePolicy(
      new PolicyStatement({
        actions: ['elasticloadbalancing:RegisterTargets', 'elasticloadbalancing:DeregisterTargets'],
        resources: arns('elasticloadbalancing', 'targetgroup', '*/*'),
        conditions: tagged,
      }),
    );
    this.step.addToRolePolicy(
      new PolicyStatement({
        actions: [
          'autoscaling:DescribeAutoScalingGroups',
          'elasticloadbalancing:DescribeTargetGroups',
          'elasticloadbalancing:DescribeTargetHealth',
          'elasticloadbalancing:DescribeTargetGroupAttributes',
        ],
        resources: ['*'],
      }),
    );
  }

  private machine(name: string): StateMachine {
    const { step, plan, approval } = this.tasks();
    approval.addCatch(step, { errors: ['States.Timeout'], resultPath: JsonPath.DISCARD });
    approval.next(step);
    const wait = new Wait(this, 'Wait for the next turn', {
      stateName: 'WaitTurn',
      time: WaitTime.timestampPath('$.wakeAt'),
    }).next(step);
    const startNext = this.startNext();
    const route = new Choice(this, 'What next', { stateName: 'Route' })
      .when(Condition.stringEquals('$.next', 'wait'), wait)
      .when(Condition.stringEquals('$.next', 'approval'), approval)
      .when(Condition.stringEquals('$.next', 'continue'), step)
      .when(Condition.stringEquals('$.next', 'handoff'), startNext)
      .when(
        Condition.stringEquals('$.next', 'done'),
        new Succeed(this, 'Rollout ended', { stateName: 'Done' }),
      )
      .otherwise(
        new Fail(this, 'Unknown move', { stateName: 'UnknownMove', error: 'Forestall.UnknownMove' }),
      );
    step.next(route);
    plan.next(step);
    const start = new Choice(this, 'New rollout?', { stateName: 'Start' })
      .when(
        // Only the poll's first start carries `plan`; a Choice on a missing path fails the execution.
        Condition.and(Condition.isPresent('$.plan'), Condition.booleanEquals('$.plan', true)),
        plan,
      )
      .otherwise(step);
    const logs = this.encryptedLogs();
    const machine = new StateMachine(this, 'StateMachine', {
      stateMachineName: name,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(start),
      tracingEnabled: true,
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: true },
      comment: 'Forestall rollout: one execution per batch (and per 200 turns), handed off by name',
    });
    // StartNext starts the next execution of this same state machine (named by ARN: no token cycle).
    machine.addToRolePolicy(
      new PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachineArn] }),
    );
    return machine;
  }

  /** The three Lambda tasks: each safe to run again, so each retries the handler's own errors too. */
  private tasks() {
    const step = new LambdaInvoke(this, 'Step turn', {
      stateName: 'Step',
      lambdaFunction: this.step,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false, // RETRIED below covers them, with States.TaskFailed
    }).addRetry({ errors: RETRIED, interval: Duration.seconds(5), maxAttempts: 6, backoffRate: 2 });
    const plan = new LambdaInvoke(this, 'Plan rollout', {
      stateName: 'Plan',
      lambdaFunction: this.plan,
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      payload: TaskInput.fromObject({ 'rolloutId.$': '$.rolloutId', 'region.$': '$.region' }),
    }).addRetry({ errors: RETRIED, interval: Duration.seconds(5), maxAttempts: 4, backoffRate: 2 });
    const approval = new LambdaInvoke(this, 'Await approval', {
      stateName: 'AwaitApproval',
      lambdaFunction: this.approvalWait,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      retryOnServiceExceptions: false, // RETRIED below: the handler only stores the token, safe to run again
      payload: TaskInput.fromObject({
        'rolloutId.$': '$.rolloutId',
        'batch.$': '$.approvalBatch',
        taskToken: JsonPath.taskToken,
      }),
      // The machine halts the rollout once the approval is this late; the task ends a little after.
      taskTimeout: Timeout.duration(Duration.seconds(APPROVAL_TIMEOUT / 1000 + 600)),
      resultPath: JsonPath.DISCARD,
    });
    approval.addRetry({ errors: RETRIED, interval: Duration.seconds(5), maxAttempts: 6, backoffRate: 2 });
    return { step, plan, approval };
  }

  /** StartNext: starts the next execution under its name; a duplicate start ends this one all the same. */
  private startNext(): CustomState {
    const startNext = new CustomState(this, 'Start the next execution', {
      stateJson: {
        Type: 'Task',
        Resource: 'arn:aws:states:::states:startExecution',
        Parameters: {
          'StateMachineArn.$': '$$.StateMachine.Id',
          'Name.$': '$.nextName',
          'Input.$': '$.nextInput',
        },
        ResultPath: null,
        Retry: [
          {
            ErrorEquals: ['StepFunctions.SdkClientException', 'StepFunctions.AWSStepFunctionsException'],
            IntervalSeconds: 2,
            MaxAttempts: 6,
            BackoffRate: 2,
          },
        ],
      },
    });
    const handedOff = new Succeed(this, 'Handed off', { stateName: 'HandedOff' });
    // A duplicate start (a retried hand-off) finds the next execution there already: nothing to do.
    startNext.addCatch(handedOff, {
      errors: ['StepFunctions.ExecutionAlreadyExistsException'],
      resultPath: JsonPath.DISCARD,
    });
    startNext.next(handedOff);
    return startNext;
  }

  /** The execution log group, encrypted with its own rotating key. */
  private encryptedLogs(): LogGroup {
    const key = new Key(this, 'LogKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
    key.grantEncryptDecrypt(new ServicePrincipal(`logs.${Stack.of(this).region}.amazonaws.com`));
    return new LogGroup(this, 'Logs', {
      retention: RetentionDays.THREE_MONTHS,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }

  private acknowledge(): void {
    for (const fn of [this.plan, this.step, this.approvalWait]) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The managed basic execution role only lets the function write its own logs.',
      });
    }
    Validations.of(this.plan).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'EC2 Describe* calls and X-Ray segments support no resource-level permissions.',
    });
    Validations.of(this.step).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only Describe* calls (EC2, Auto Scaling, ELBv2) and X-Ray segments, which support no resource-level permissions, are on *; every mutating action is on tagged resources.',
    });
    Validations.of(this.approvalWait).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'states:SendTaskSuccess for a task token of a service-integration Task state cannot be scoped by IAM; X-Ray segments support no resource-level permissions.',
    });
    const { config } = this.props;
    for (const region of config.regions) {
      for (const resource of [
        `ec2:${region}:<AWS::AccountId>:instance/*`,
        `autoscaling:${region}:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/*`,
        `elasticloadbalancing:${region}:<AWS::AccountId>:targetgroup/*/*`,
      ])
        Validations.of(this.step).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${resource}]`,
          reason:
            'Mutating EC2, Auto Scaling and ELBv2 actions on every instance / group / target group of a configured Region, allowed only on those carrying the opt-in tag (aws:ResourceTag condition): the tag, not the ARN, is the scope, by design.',
        });
    }
    const stack = Stack.of(this);
    for (const fn of [this.plan, this.step, this.approvalWait]) {
      const logicalId = stack.resolve((fn.node.defaultChild as CfnFunction).logicalId) as string;
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        reason: 'CDK grants the state machine every version of the function it invokes.',
      });
    }
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
    });
  }

  private alarms(props: RolloutProps): void {
    const custom = (metricName: string) =>
      new Metric({
        namespace: 'Forestall',
        metricName,
        dimensionsMap: { service: 'forestall' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    const alarm = (id: string, description: string, metric: Metric) =>
      new Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    const sm = this.stateMachine;
    const period = { period: Duration.minutes(5) };
    const alarms = [
      alarm(
        'RolloutHalted',
        'A Forestall rollout halted: AWS acts on its own schedule for what is left',
        custom('RolloutsHalted'),
      ),
      alarm(
        'ExecutionFailed',
        'A Forestall rollout execution failed: the rollout is stuck until it is resumed',
        sm.metricFailed(period),
      ),
      alarm('ExecutionTimedOut', 'A Forestall rollout execution timed out', sm.metricTimedOut(period)),
      alarm(
        'ExecutionAborted',
        'A Forestall rollout execution was stopped by hand',
        sm.metricAborted(period),
      ),
      alarm(
        'ApprovalTimedOut',
        'A Forestall batch waited for approval longer than its timeout (24 h): the rollout halted',
        custom('ApprovalsTimedOut'),
      ),
    ];
    if (props.alarmTopic) for (const a of alarms) a.addAlarmAction(new SnsAction(props.alarmTopic));
  }
}
