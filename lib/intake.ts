/**
 * Detection: the scheduled poll and the AWS Health intake, with their alarms. Both functions are read-only on
 * EC2 (Describe calls only), write the ledger and put events on the bus.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { Config } from '../lambda/core/config';
import { HandlerFunction } from './handler-function';

export interface IntakeProps {
  readonly config: Config;
  /** The config as written (JSON), parsed again by the functions. */
  readonly configSource: unknown;
  readonly table: ITable;
  readonly bus: IEventBus;
  /** @default - alarms without actions */
  readonly alarmTopic?: ITopic;
}

/** The Health rule's pattern: EC2 scheduled changes only (AWS-FACTS §4). */
export const HEALTH_PATTERN = {
  source: ['aws.health'],
  detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] },
};

export class Intake extends Construct {
  readonly poll: HandlerFunction;
  readonly healthIntake: HandlerFunction;
  readonly deadLetters: Queue;

  constructor(scope: Construct, id: string, props: IntakeProps) {
    super(scope, id);
    const environment = { FORESTALL_CONFIG: JSON.stringify(props.configSource ?? {}) };
    this.poll = new HandlerFunction(this, 'Poll', {
      handler: 'poll',
      description: 'Forestall: finds every EC2 scheduled event in the configured Regions',
      timeout: Duration.minutes(10),
      environment,
    });
    this.healthIntake = new HandlerFunction(this, 'HealthIntake', {
      handler: 'health-intake',
      description: 'Forestall: looks at the instances an AWS Health scheduled change names',
      environment,
    });
    for (const fn of [this.poll, this.healthIntake]) {
      fn.bindLedger(props.table).bindBus(props.bus).allowEc2Describe();
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ec2:DescribeInstanceStatus, DescribeInstances and DescribeInstanceTypes, and X-Ray PutTraceSegments/PutTelemetryRecords, support no resource-level permissions; they are the only actions on *.',
      });
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'The managed basic execution role only lets the function write its own logs.',
      });
    }
    new Rule(this, 'PollSchedule', {
      description: 'Forestall poll',
      schedule: Schedule.rate(Duration.minutes(props.config.pollIntervalMinutes)),
      targets: [new LambdaFunction(this.poll, { retryAttempts: 0 })],
    });
    this.deadLetters = new Queue(this, 'HealthDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the Health rule.',
    });
    new Rule(this, 'HealthRule', {
      description: 'AWS Health: EC2 scheduled changes',
      eventPattern: HEALTH_PATTERN,
      targets: [
        new LambdaFunction(this.healthIntake, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: this.deadLetters,
        }),
      ],
    });
    this.alarms(props);
  }

  /** The poll and the Health intake start a Region's rollout (FORESTALL_STATE_MACHINE, states:StartExecution). */
  startsRollouts(stateMachineArn: string): void {
    for (const fn of [this.poll, this.healthIntake]) {
      fn.addEnvironment('FORESTALL_STATE_MACHINE', stateMachineArn);
      fn.addToRolePolicy(
        new PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn] }),
      );
    }
  }

  private alarms(props: IntakeProps): void {
    const alarms = [
      ...[this.poll, this.healthIntake].map(
        (fn) =>
          new Alarm(this, `${fn.node.id}Errors`, {
            alarmDescription: `Forestall ${fn.node.id} failed`,
            metric: fn.metricErrors({ period: Duration.minutes(5) }),
            threshold: 1,
            evaluationPeriods: 1,
            comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
      ),
      new Alarm(this, 'HealthDeadLettersAlarm', {
        alarmDescription: 'AWS Health events Forestall could not take in (dead-letter queue not empty)',
        metric: this.deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'NoSuccessfulPoll', {
        alarmDescription: 'No successful Forestall poll for 3 poll intervals',
        metric: new Metric({
          namespace: 'Forestall',
          metricName: 'PollSucceeded',
          dimensionsMap: { service: 'forestall' },
          statistic: 'Sum',
          period: Duration.minutes(props.config.pollIntervalMinutes),
        }),
        threshold: 1,
        evaluationPeriods: 3,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.BREACHING,
      }),
    ];
    if (props.alarmTopic) for (const a of alarms) a.addAlarmAction(new SnsAction(props.alarmTopic));
  }
}
