/** An opted-in, running, EBS-backed m5.large in asg `web`, us-east-1a: the instance core tests start from. */
import type { InstanceFacts } from '../../lambda/core/types';

export const instanceFacts = (instanceId: string, over: Partial<InstanceFacts> = {}): InstanceFacts => ({
  instanceId,
  region: 'us-east-1',
  instanceType: 'm5.large',
  az: 'us-east-1a',
  tags: { 'forestall:managed': 'true' },
  rootDevice: 'ebs',
  instanceStore: 'none',
  lifecycle: 'on-demand',
  asgName: 'web',
  rebootMigration: 'default',
  state: 'running',
  ...over,
});
