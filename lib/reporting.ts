/**
 * Where Forestall reports: the `forestall` event bus with an archive (replayable history), and, when the
 * config names `notifyEmail`, an encrypted SNS topic that receives the notice and rollout events and the alarms.
 */
import { Duration } from 'aws-cdk-lib';
import { Archive, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
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

  constructor(scope: Construct, id: string, props: ReportingProps = {}) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { eventBusName: 'forestall' });
    new Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      eventPattern: { source: [SOURCE] },
      retention: props.archiveRetention ?? Duration.days(90),
      description: 'Every event Forestall reported',
    });
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
