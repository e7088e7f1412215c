import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Config } from '../lambda/core/config';
import { Intake } from './intake';
import { Ledger } from './ledger';
import { Reporting } from './reporting';
import { Rollout } from './rollout';

export interface ForestallStackProps extends StackProps {
  /** The validated operator config (parsed once in bin/forestall.ts). */
  readonly config: Config;
  /** The config as the operator wrote it: the Lambdas parse it again at start-up (FORESTALL_CONFIG). */
  readonly configSource: unknown;
}

/** Composes Forestall's constructs: state (ledger, bus) apart from behaviour (intake). Wiring only. */
export class ForestallStack extends Stack {
  readonly config: Config;
  readonly ledger: Ledger;
  readonly reporting: Reporting;
  readonly intake: Intake;
  readonly rollout: Rollout;

  constructor(scope: Construct, id: string, props: ForestallStackProps) {
    super(scope, id, props);
    this.config = props.config;
    this.templateOptions.description = `Forestall: EC2 scheduled-maintenance rollouts (dryRun=${props.config.dryRun})`;
    this.ledger = new Ledger(this, 'Ledger');
    this.reporting = new Reporting(this, 'Reporting', {
      ...(props.config.notifyEmail ? { notifyEmail: props.config.notifyEmail } : {}),
    });
    this.intake = new Intake(this, 'Intake', {
      config: props.config,
      configSource: props.configSource,
      table: this.ledger.table,
      bus: this.reporting.bus,
      ...(this.reporting.topic ? { alarmTopic: this.reporting.topic } : {}),
    });
    this.rollout = new Rollout(this, 'Rollout', {
      config: props.config,
      configSource: props.configSource,
      table: this.ledger.table,
      bus: this.reporting.bus,
      ...(this.reporting.topic ? { alarmTopic: this.reporting.topic } : {}),
    });
    this.intake.startsRollouts(this.rollout.stateMachineArn);
    new CfnOutput(this, 'RolloutStateMachineArn', { value: this.rollout.stateMachineArn });
    new CfnOutput(this, 'PollFunctionName', { value: this.intake.poll.functionName });
    new CfnOutput(this, 'LedgerTableName', { value: this.ledger.table.tableName });
    new CfnOutput(this, 'EventLogGroup', { value: this.reporting.eventLog.logGroupName });
  }
}
