/**
 * The synthesized stacks (bundling skipped): the resources issue 6 asks for, IAM kept read-only on EC2, and
 * cdk-nag AwsSolutions with zero unacknowledged findings (a finding fails synth).
 */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../../lambda/core/config';
import { ForestallStack } from '../../lib/forestall-stack';
import { HealthForwarderStack } from '../../lib/health-forwarder-stack';
import { HEALTH_PATTERN } from '../../lib/intake';

function synth(source: Record<string, unknown>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const config = parseConfig(source);
  const main = new ForestallStack(app, 'Forestall', {
    config,
    configSource: source,
    env: { region: 'us-east-1' },
  });
  const forwarder = new HealthForwarderStack(app, 'Forwarder', {
    homeRegion: 'us-east-1',
    env: { region: 'eu-west-1' },
  });
  app.synth();
  return { main: Template.fromStack(main), forwarder: Template.fromStack(forwarder) };
}

type Statement = { Action: string | string[]; Resource: unknown };
/** Statements of the IAM policies whose logical id matches. */
function statements(t: Template, logicalId: RegExp): Statement[] {
  type Policy = { Properties: { PolicyDocument: { Statement: Statement[] } } };
  return Object.entries(t.findResources('AWS::IAM::Policy'))
    .filter(([id]) => logicalId.test(id))
    .flatMap(([, p]) => (p as Policy).Properties.PolicyDocument.Statement);
}
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('Forestall stack', () => {
  const source = {
    pollIntervalMinutes: 7,
    regions: ['us-east-1', 'eu-west-1'],
    notifyEmail: 'ops@example.com',
  };
  let main: Template;
  let forwarder: Template;
  beforeAll(() => {
    ({ main, forwarder } = synth(source));
  });

  it('keeps the ledger: on demand, point-in-time recovery, encrypted, TTL, retained', () => {
    main.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
    });
  });

  it('runs every Lambda on nodejs22.x, arm64, JSON logs and X-Ray, with the config and bindings in its environment', () => {
    const fns = Object.values(
      main.findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^Forestall:') },
      }),
    );
    expect(fns).toHaveLength(5); // poll, health-intake, plan, step, approval-wait
    for (const fn of fns)
      expect(fn).toMatchObject({
        Properties: {
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogFormat: 'JSON' },
          Environment: {
            Variables: {
              FORESTALL_CONFIG: JSON.stringify(source),
              FORESTALL_TABLE: expect.anything(),
              FORESTALL_BUS: expect.anything(),
            },
          },
        },
      });
    main.resourceCountIs('AWS::Logs::LogGroup', 7); // 5 functions, the bus's log, the state machine's
    main.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('polls at the configured interval and takes in EC2 scheduled changes from AWS Health with retries and a DLQ', () => {
    main.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(7 minutes)' });
    main.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: HEALTH_PATTERN,
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 86_400 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
  });

  it('reports on the forestall bus with an archive, and mails through an encrypted topic when notifyEmail is set', () => {
    main.hasResourceProperties('AWS::Events::EventBus', { Name: 'forestall' });
    main.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: { source: ['forestall'] },
      RetentionDays: 90,
    });
    main.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['forestall'] },
      Targets: [Match.objectLike({ Arn: Match.anyValue() })],
    });
    main.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/events/forestall' });
    main.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    main.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    const quiet = synth({}).main;
    quiet.resourceCountIs('AWS::SNS::Topic', 0);
  });

  it('alarms on Lambda errors, dead letters, and no successful poll for 3 intervals', () => {
    main.resourceCountIs('AWS::CloudWatch::Alarm', 9); // 4 for detection, 5 for rollouts (below)
    main.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Forestall',
      MetricName: 'PollSucceeded',
      Period: 420,
      EvaluationPeriods: 3,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [Match.anyValue()],
    });
    main.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
    });
    expect(
      Object.values(main.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Errors' } })),
    ).toHaveLength(2);
  });

  it('keeps detection read-only on EC2: Describe calls (and X-Ray writes) are its only actions on *', () => {
    const all = statements(main, /^Intake/);
    const ec2 = all.flatMap(actions).filter((a) => a.startsWith('ec2:'));
    expect(new Set(ec2)).toEqual(
      new Set(['ec2:DescribeInstanceStatus', 'ec2:DescribeInstances', 'ec2:DescribeInstanceTypes']),
    );
    const onStar = all.filter((s) => s.Resource === '*').flatMap(actions);
    expect(new Set(onStar)).toEqual(new Set([...ec2, 'xray:PutTraceSegments', 'xray:PutTelemetryRecords']));
    expect(all.flatMap(actions).some((a) => a.endsWith(':*'))).toBe(false);
    // Elsewhere, only Describe calls, X-Ray, log delivery, and SendTaskSuccess (task tokens cannot be scoped)
    // act on *: no mutating EC2, Auto Scaling or ELBv2 action.
    const others = statements(main, /^(?!Intake)/)
      .filter((st) => st.Resource === '*')
      .flatMap(actions);
    for (const a of others)
      expect({
        a,
        ok: /^(ec2|autoscaling|elasticloadbalancing):Describe|^xray:|^logs:|^states:SendTaskSuccess$/.test(a),
      }).toEqual({ a, ok: true });
  });

  it('forwards an extra Region’s Health events to the home Region’s default bus', () => {
    forwarder.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: HEALTH_PATTERN,
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(':events:us-east-1:')])] },
        }),
      ],
    });
  });
});

describe('cdk-nag', () => {
  it('is active: an unacknowledged finding fails synth', () => {
    const app = new App();
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    new Queue(new Stack(app, 'Bad'), 'Plain');
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });
});
