/**
 * The rollout's template (issue 7): mutating actions only on resources carrying the opt-in tag, in the
 * configured Regions; the state machine logs ALL to an encrypted group with X-Ray on; the alarms; the poll
 * may start executions of this state machine only. cdk-nag runs in synth (a finding fails it).
 */
import { App, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../lambda/core/config';
import { ForestallStack } from '../../lib/forestall-stack';

const source = {
  regions: ['us-east-1', 'eu-west-1'],
  optInTag: { key: 'team:forestall', value: 'yes' },
  notifyEmail: 'ops@example.com',
};

function synth(): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const stack = new ForestallStack(app, 'Forestall', {
    config: parseConfig(source),
    configSource: source,
    env: { region: 'us-east-1' },
  });
  app.synth();
  return Template.fromStack(stack);
}

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const MUTATING =
  /^(ec2:(Reboot|Stop|Start|ModifyInstanceEventStartTime)|autoscaling:(Enter|Exit)Standby|elasticloadbalancing:(Register|Deregister)Targets)/;

describe('rollout template', () => {
  let t: Template;
  let all: Array<{ role: string; s: Statement }>;
  beforeAll(() => {
    t = synth();
    type Policy = { Properties: { PolicyDocument: { Statement: Statement[] } } };
    all = Object.entries(t.findResources('AWS::IAM::Policy')).flatMap(([id, p]) =>
      (p as Policy).Properties.PolicyDocument.Statement.map((s) => ({ role: id, s })),
    );
  });

  it('allows every mutating action only with the opt-in tag condition, on this account’s resources', () => {
    const mutating = all.filter(({ s }) => actions(s).some((a) => MUTATING.test(a)));
    expect(new Set(mutating.map(({ role }) => role))).toEqual(
      new Set([expect.stringMatching(/^RolloutStep/)]),
    );
    expect(mutating.flatMap(({ s }) => actions(s)).sort()).toEqual(
      [
        'autoscaling:EnterStandby',
        'autoscaling:ExitStandby',
        'ec2:ModifyInstanceEventStartTime',
        'ec2:RebootInstances',
        'ec2:StartInstances',
        'ec2:StopInstances',
        'elasticloadbalancing:DeregisterTargets',
        'elasticloadbalancing:RegisterTargets',
      ].sort(),
    );
    for (const { s } of mutating) {
      expect(s.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/team:forestall': 'yes' } });
      expect(actions(s).every((a) => !a.includes('*'))).toBe(true);
      const resources = JSON.stringify(s.Resource);
      expect(resources).not.toBe('"*"');
      // One ARN per configured Region, in this account.
      expect(resources).toContain(':us-east-1:');
      expect(resources).toContain(':eu-west-1:');
      expect(resources).toContain('AWS::AccountId');
    }
  });

  it('grants no wildcard action anywhere', () => {
    for (const { s } of all) for (const a of actions(s)) expect(a.endsWith(':*') || a === '*').toBe(false);
  });

  it('runs a Standard state machine that logs ALL to an encrypted log group, with X-Ray tracing', () => {
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true, Destinations: [Match.anyValue()] },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue(), RetentionInDays: 90 });
  });

  it('lets only the poll, the Health intake and the state machine itself start executions, of this one machine', () => {
    const starters = all.filter(({ s }) => actions(s).includes('states:StartExecution'));
    expect(starters.map(({ role }) => role).sort()).toEqual([
      expect.stringMatching(/^IntakeHealthIntake/),
      expect.stringMatching(/^IntakePoll/),
      expect.stringMatching(/^RolloutStateMachineRole/),
    ]);
    for (const { s } of starters)
      expect(JSON.stringify(s.Resource)).toContain(':stateMachine:Forestall-rollout');
  });

  it('alarms on a halted rollout, a failed, timed-out or aborted execution, and an approval timed out', () => {
    for (const metricName of ['RolloutsHalted', 'ApprovalsTimedOut'])
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Forestall',
        MetricName: metricName,
        Threshold: 1,
        AlarmActions: [Match.anyValue()],
      });
    for (const metricName of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted'])
      t.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metricName,
        Threshold: 1,
        AlarmActions: [Match.anyValue()],
      });
  });

  // Review: a Lambda task that fails without a Retry fails the execution, and a failed execution holds the
  // Region `running` until someone redrives it. AwaitApproval retried only Lambda's service exceptions: a
  // throttled invoke (TooManyRequestsException) or a handler error (a DynamoDB or SendTaskSuccess failure)
  // ended the rollout's execution.
  it('retries every Lambda task on throttling and on handler errors, as Step and Plan do', () => {
    const [machine] = Object.values(t.findResources('AWS::StepFunctions::StateMachine')) as {
      Properties: { DefinitionString: { 'Fn::Join': [string, unknown[]] } };
    }[];
    // The definition as CloudFormation joins it, with its tokens (function ARNs) as plain text.
    const parts = machine?.Properties.DefinitionString['Fn::Join'][1] ?? [];
    const definition = JSON.parse(parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join('')) as {
      States: Record<string, { Retry?: { ErrorEquals: string[] }[] }>;
    };
    for (const state of ['Step', 'Plan', 'AwaitApproval']) {
      const retried = (definition.States[state]?.Retry ?? []).flatMap((r) => r.ErrorEquals);
      for (const error of ['Lambda.TooManyRequestsException', 'Lambda.ServiceException', 'States.TaskFailed'])
        expect({ state, error, retried: retried.includes(error) }).toEqual({ state, error, retried: true });
    }
  });

  it('waits for approval with a task token and a timeout past the machine’s own (24 h)', () => {
    const [machine] = Object.values(t.findResources('AWS::StepFunctions::StateMachine'));
    const text = JSON.stringify(machine);
    expect(text).toContain('lambda:invoke.waitForTaskToken');
    expect(text).toContain('\\"TimeoutSeconds\\":87000');
    expect(text).toContain('states:startExecution');
  });
});
