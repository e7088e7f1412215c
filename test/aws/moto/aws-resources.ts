/** The ledger table and the bus → rule → SQS queue the AWS-backed tests read back from. */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { LEDGER_KEYS } from '../../../lambda/aws/notice-ledger';

const region = 'us-east-1';

/** A table with the key schema the CDK ledger construct uses. */
export async function createLedgerTable(name: string): Promise<string> {
  await new DynamoDBClient({ region }).send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: LEDGER_KEYS.partitionKey, AttributeType: 'S' },
        { AttributeName: LEDGER_KEYS.sortKey, AttributeType: 'S' },
      ],
      KeySchema: [
        { AttributeName: LEDGER_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: LEDGER_KEYS.sortKey, KeyType: 'RANGE' },
      ],
    }),
  );
  return name;
}

export interface BusCapture {
  readonly busName: string;
  /** Every event the rule delivered so far (and not read before), as EventBridge wrote it. */
  drain(): Promise<{ 'detail-type': string; source: string; detail: Record<string, unknown> }[]>;
}

/** A bus with a rule on source `forestall` whose target is an SQS queue, as an operator would subscribe. */
export async function busToQueue(busName: string): Promise<BusCapture> {
  const eb = new EventBridgeClient({ region });
  const sqs = new SQSClient({ region });
  await eb.send(new CreateEventBusCommand({ Name: busName }));
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `${busName}-capture` }));
  const url = queue.QueueUrl ?? '';
  const attrs = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  await eb.send(
    new PutRuleCommand({
      Name: 'all',
      EventBusName: busName,
      EventPattern: JSON.stringify({ source: ['forestall'] }),
    }),
  );
  await eb.send(
    new PutTargetsCommand({
      Rule: 'all',
      EventBusName: busName,
      Targets: [{ Id: 'q', Arn: attrs.Attributes?.QueueArn }],
    }),
  );
  return {
    busName,
    async drain() {
      const out = [];
      for (;;) {
        const r = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }),
        );
        if (!r.Messages?.length) return out;
        out.push(...r.Messages.map((m) => JSON.parse(m.Body ?? '{}')));
      }
    },
  };
}
