/** Auto Scaling groups and target groups in moto for the drain adapter's tests (through the real SDK). */
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateCommand, DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import {
  CreateTargetGroupCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand,
  RegisterTargetsCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';

const region = 'us-east-1';

export function testAutoScaling(): AutoScalingClient {
  return new AutoScalingClient({ region, maxAttempts: 1 });
}

export function testElb(): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client({ region, maxAttempts: 1 });
}

export interface GroupSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly desired: number;
  /** Tags on the group, propagated to the members it launches. */
  readonly tags?: Readonly<Record<string, string>>;
  readonly targetGroupArns?: readonly string[];
}

let templates = 0;

/** A launch template and a group from it; returns the members' ids (moto launches them at once). */
export async function createGroup(ec2: EC2Client, spec: GroupSpec): Promise<string[]> {
  const asg = testAutoScaling();
  const template = `lt-${spec.name}-${++templates}`;
  await ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: template,
      LaunchTemplateData: { ImageId: 'ami-12c6146b', InstanceType: 'm5.large' },
    }),
  );
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: spec.name,
      LaunchTemplate: { LaunchTemplateName: template, Version: '$Latest' },
      AvailabilityZones: [`${region}a`],
      MinSize: spec.min,
      MaxSize: spec.max,
      DesiredCapacity: spec.desired,
      ...(spec.targetGroupArns ? { TargetGroupARNs: [...spec.targetGroupArns] } : {}),
      Tags: Object.entries(spec.tags ?? {}).map(([Key, Value]) => ({
        Key,
        Value,
        PropagateAtLaunch: true,
        ResourceId: spec.name,
        ResourceType: 'auto-scaling-group',
      })),
    }),
  );
  return members(spec.name);
}

/** The group's member ids, in moto's order. */
export async function members(name: string): Promise<string[]> {
  const r = await testAutoScaling().send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
  );
  return (r.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => i.InstanceId ?? '');
}

export async function untagGroup(name: string, key: string): Promise<void> {
  await testAutoScaling().send(
    new DeleteTagsCommand({
      Tags: [{ ResourceId: name, ResourceType: 'auto-scaling-group', Key: key }],
    }),
  );
}

/** A target group of instances in the default VPC, with `delaySeconds` and these instances registered. */
export async function createTargetGroup(
  ec2: EC2Client,
  name: string,
  opts: { delaySeconds?: number; instanceIds?: readonly string[]; targetType?: 'instance' | 'ip' } = {},
): Promise<string> {
  const elb = testElb();
  const vpcs = await ec2.send(
    new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
  );
  const tg = await elb.send(
    new CreateTargetGroupCommand({
      Name: name,
      Protocol: 'HTTP',
      Port: 80,
      VpcId: vpcs.Vpcs?.[0]?.VpcId,
      TargetType: opts.targetType ?? 'instance',
    }),
  );
  const arn = tg.TargetGroups?.[0]?.TargetGroupArn ?? '';
  if (opts.delaySeconds !== undefined)
    await elb.send(
      new ModifyTargetGroupAttributesCommand({
        TargetGroupArn: arn,
        Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(opts.delaySeconds) }],
      }),
    );
  if (opts.instanceIds?.length)
    await elb.send(
      new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: opts.instanceIds.map((Id) => ({ Id })) }),
    );
  return arn;
}
