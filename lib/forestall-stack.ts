import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { Config } from '../lambda/core/config';

export interface ForestallStackProps extends StackProps {
  /** The validated operator config (parsed once in bin/forestall.ts). */
  readonly config: Config;
}

/**
 * Composes Forestall's constructs. The ledger, intake, rollout and reporting constructs land with the
 * AWS-stack issue; today the stack only carries the validated config so `cdk synth` proves it parses.
 */
export class ForestallStack extends Stack {
  readonly config: Config;

  constructor(scope: Construct, id: string, props: ForestallStackProps) {
    super(scope, id, props);
    this.config = props.config;
    this.templateOptions.description = `Forestall: EC2 scheduled-maintenance rollouts (dryRun=${props.config.dryRun})`;
  }
}
