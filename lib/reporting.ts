/**
 * Where Forestall reports: the `forestall` event bus with an archive (replayable history), and, when the
 * config names `notifyEmail`, an encrypted SNS topic that receives the notice and rollout events and the alarms.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Archive, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { CloudWatchLogGroup, SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { SOURCE } from '../lambda/aws/reporter';

export interface ReportingProps {
  /** @default - no topic */
  readonly notifyEmail?: string;
  /** @default Duration.days(90) */
  readonly archiveRetention?: Duration;
}

export class Reporting extends Construct {
  readonly bus: EventBus;
  readonly topic?: Topic;
  readonly eventLog: LogGroup;

  constructor(scope: Construct, id: string, props: ReportingProps = {}) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { eventBusName: 'forestall' });
    new Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      eventPattern: { source: [SOURCE] },
      retention: props.archiveRetention ?? Duration.days(90),
      description: 'Every event Forestall reported',
    });
    // Every event also lands in a log group, so an operator can watch them: aws logs tail /aws/events/forestall
    this.eventLog = new LogGroup(this, 'EventLog', {
      logGroupName: '/aws/events/forestall',
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    new Rule(this, 'ToLog', {
      eventBus: this.bus,
      description: 'Every Forestall event to the /aws/events/forestall log group',
      eventPattern: { source: [SOURCE] },
      targets: [new CloudWatchLogGroup(this.eventLog, { installLatestAwsSdk: false })],
    });
    acknowledgeLogPolicyWriter(this);
    if (props.notifyEmail === undefined) return;
    // A customer managed key: EventBridge and CloudWatch may not use the aws/sns key to publish.
    const key = new Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: 'Forestall notifications',
    });
    for (const service of ['events.amazonaws.com', 'cloudwatch.amazonaws.com'])
      key.grant(new ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'Topic', { masterKey: key, enforceSSL: true, displayName: 'Forestall' });
    this.topic.addSubscription(new EmailSubscription(props.notifyEmail));
    new Rule(this, 'Notify', {
      eventBus: this.bus,
      description: 'Forestall notices and rollout outcomes to the notification topic',
      eventPattern: {
        source: [SOURCE],
        detailType: [
          'Notice Discovered',
          'Notice Changed',
          'Plan Infeasible',
          'Instance Remedy Failed',
          'Rollout Halted',
        ],
      },
      targets: [new SnsTopic(this.topic)],
    });
  }
}

/**
 * The log group target writes the log group's resource policy through CDK's AwsCustomResource: a singleton
 * Lambda at stack level (CDK's fixed singleton id) and a policy construct named EventsLogGroupPolicy….
 * Their findings are acknowledged on those constructs only.
 */
function acknowledgeLogPolicyWriter(scope: Construct): void {
  const stack = Stack.of(scope);
  const writer = stack.node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
  if (writer)
    Validations.of(writer).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: "CDK's resource-policy writer only writes its own logs with the managed basic execution role.",
    });
  for (const policy of stack.node.children.filter((c) => c.node.id.startsWith('EventsLogGroupPolicy')))
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'logs:PutResourcePolicy and logs:DeleteResourcePolicy support no resource-level permissions.',
    });
}
