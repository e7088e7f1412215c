/**
 * The one place AWS SDK clients are made. Every client gets the Region, the `adaptive` retry mode and an
 * attempt count; the endpoint comes from the SDK's own configuration (AWS_ENDPOINT_URL, used by the tests to
 * reach the moto launcher), so no code path here names an endpoint.
 *
 * Mutating EC2 calls get a client that never retries by itself: throttling is retried by the fleet adapter
 * (batch.ts withThrottleRetry), and a timeout or 5xx must not be re-sent blindly (a reboot AWS already
 * accepted would be sent twice), so the SDK's automatic retry of those is off for them. The same holds for
 * the drain's mutating calls (EnterStandby/ExitStandby, RegisterTargets/DeregisterTargets): the drain
 * adapter retries throttling and ResourceContention itself and never re-sends a timeout or 5xx.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Attempts for calls that are safe to repeat (reads, conditional writes, PutEvents). */
export const READ_ATTEMPTS = 8;

export interface Clients {
  /** Describe* calls: adaptive retries (client-side rate limiting on throttling). */
  readonly ec2Read: EC2Client;
  /** Reboot/Stop/Start/ModifyInstanceEventStartTime: one attempt; the adapter classifies the error. */
  readonly ec2Write: EC2Client;
  /** DescribeAutoScalingGroups: adaptive retries. */
  readonly autoScalingRead: AutoScalingClient;
  /** EnterStandby/ExitStandby: one attempt; the drain adapter classifies the error. */
  readonly autoScalingWrite: AutoScalingClient;
  /** DescribeTargetGroups/DescribeTargetGroupAttributes/DescribeTargetHealth: adaptive retries. */
  readonly elbRead: ElasticLoadBalancingV2Client;
  /** RegisterTargets/DeregisterTargets: one attempt; the drain adapter classifies the error. */
  readonly elbWrite: ElasticLoadBalancingV2Client;
  readonly ledger: DynamoDBDocumentClient;
  readonly events: EventBridgeClient;
}

/** Lets a caller wrap each client once (the Powertools tracer in Lambda); identity by default. */
export type ClientWrapper = <C>(client: C) => C;

export function clientConfig(region: string, maxAttempts = READ_ATTEMPTS) {
  // With one attempt there is nothing for adaptive mode to pace, and its client-side limiter would add
  // waits on top of the adapter's own throttling backoff: standard mode then.
  return { region, retryMode: maxAttempts > 1 ? 'adaptive' : 'standard', maxAttempts } as const;
}

export function createClients(region: string, wrap: ClientWrapper = (c) => c): Clients {
  return {
    ec2Read: wrap(new EC2Client(clientConfig(region))),
    ec2Write: wrap(new EC2Client(clientConfig(region, 1))),
    autoScalingRead: wrap(new AutoScalingClient(clientConfig(region))),
    autoScalingWrite: wrap(new AutoScalingClient(clientConfig(region, 1))),
    elbRead: wrap(new ElasticLoadBalancingV2Client(clientConfig(region))),
    elbWrite: wrap(new ElasticLoadBalancingV2Client(clientConfig(region, 1))),
    ledger: DynamoDBDocumentClient.from(wrap(new DynamoDBClient(clientConfig(region))), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    events: wrap(new EventBridgeClient(clientConfig(region))),
  };
}

/**
 * Tells `record` how many times the SDK retried each call of `client` (after throttling, mostly, in adaptive
 * mode), whether the call then succeeded or failed. For the ApiRetries metric.
 */
export function countRetries(client: EC2Client, record: (retries: number) => void): EC2Client {
  const retries = (x: unknown) => {
    const attempts = (x as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts ?? 1;
    if (attempts > 1) record(attempts - 1);
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        const r = await next(args);
        retries(r.output);
        return r;
      } catch (e) {
        retries(e);
        throw e;
      }
    },
    { step: 'initialize', name: 'forestallCountRetries' },
  );
  return client;
}
