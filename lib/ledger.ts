/** The ledger: one DynamoDB table (notices, locks, rollouts), kept when the stack is deleted. */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { LEDGER_KEYS } from '../lambda/aws/notice-ledger';

export class Ledger extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: LEDGER_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: LEDGER_KEYS.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      timeToLiveAttribute: LEDGER_KEYS.timeToLive,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
