/** Launching instances in moto for the AWS-backed tests. */
import { EC2Client, RunInstancesCommand } from '@aws-sdk/client-ec2';

export interface LaunchSpec {
  readonly count: number;
  readonly instanceType?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly disableApiStop?: boolean;
}

/** RunInstances (in calls of at most 100); returns the new ids in order. */
export async function launch(ec2: EC2Client, spec: LaunchSpec): Promise<string[]> {
  const ids: string[] = [];
  for (let left = spec.count; left > 0; left -= 100) {
    const n = Math.min(100, left);
    const tags = Object.entries(spec.tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
    const r = await ec2.send(
      new RunInstancesCommand({
        ImageId: 'ami-12c6146b',
        MinCount: n,
        MaxCount: n,
        InstanceType: (spec.instanceType ?? 'm5.large') as 'm5.large',
        ...(spec.disableApiStop ? { DisableApiStop: true } : {}),
        ...(tags.length > 0 ? { TagSpecifications: [{ ResourceType: 'instance', Tags: tags }] } : {}),
      }),
    );
    ids.push(...(r.Instances ?? []).map((i) => i.InstanceId ?? ''));
  }
  return ids;
}

/** An EC2 client for test set-up (reads the endpoint from AWS_ENDPOINT_URL like the adapters). */
export function testEc2(): EC2Client {
  return new EC2Client({ region: 'us-east-1', maxAttempts: 1 });
}
