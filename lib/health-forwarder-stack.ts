/**
 * For each extra Region in `regions`: AWS Health delivers a Region's events in that Region only (AWS-FACTS
 * §4), so a small stack there forwards its EC2 scheduled changes to the home Region's default bus, where
 * the Health rule of the main stack takes them in.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { HEALTH_PATTERN } from './intake';

export interface HealthForwarderStackProps extends StackProps {
  readonly homeRegion: string;
}

export class HealthForwarderStack extends Stack {
  constructor(scope: Construct, id: string, props: HealthForwarderStackProps) {
    super(scope, id, props);
    const home = EventBus.fromEventBusArn(
      this,
      'HomeBus',
      this.formatArn({
        service: 'events',
        region: props.homeRegion,
        resource: 'event-bus',
        resourceName: 'default',
      }),
    );
    new Rule(this, 'Forward', {
      description: `Forestall: this Region's EC2 scheduled changes to ${props.homeRegion}`,
      eventPattern: HEALTH_PATTERN,
      targets: [new EventBusTarget(home)],
    });
  }
}
