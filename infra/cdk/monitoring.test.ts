import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricNames } from '../../bus/observability.ts';
import { createOpenClawApp } from './app.ts';
import { DeploymentConfigSchema } from './config.ts';
import { EXPECTED_METRICS } from './constructs/monitoring.ts';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

describe('monitoring (dashboard, alarms, budget)', () => {
  const outdirs: string[] = [];
  const synth = async (settings: object) => {
    const outdir = await mkdtemp(join(tmpdir(), 'openclaw-monitoring-'));
    outdirs.push(outdir);
    const stacks = await createOpenClawApp(DeploymentConfigSchema.parse(settings), outdir);
    // cdk-nag AwsSolutions runs here: an unacknowledged finding throws.
    stacks.app.synth();
    return Template.fromStack(stacks.main);
  };
  let defaults: Template;
  let everything: Template;

  beforeAll(async () => {
    defaults = await synth({});
    everything = await synth({
      monitoring: { dashboard: true, maxTaskHours: 2, tracing: true },
      budget: { monthlyUsd: 5, email: 'owner@example.com' },
    });
  }, 180_000);

  const functionsOf = (template: Template) =>
    Object.entries(template.findResources('AWS::Lambda::Function') as Resources).map(([id, fn]) => ({
      id,
      env:
        (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {},
      tracing: fn.Properties?.TracingConfig as { Mode?: string } | undefined,
      role: fn.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined,
    }));

  it('publishes at most ten distinct custom metrics, none with a per-user or per-channel dimension', () => {
    const distinct = new Set(EXPECTED_METRICS.map((m) => `${m.name}|${m.service}|${m.functionName ?? ''}`));
    expect(distinct.size).toBe(EXPECTED_METRICS.length);
    expect(distinct.size).toBeLessThanOrEqual(10);
    // The names the handlers use (bus/observability.ts) are the names the dashboard draws.
    expect(new Set(EXPECTED_METRICS.map((m) => m.name))).toEqual(new Set(Object.values(MetricNames)));
  });

  it('gives every function the stage’s metrics namespace, and no tracing by default', () => {
    const fns = functionsOf(defaults);
    expect(fns.length).toBeGreaterThan(10);
    for (const fn of fns) {
      expect(fn.env.POWERTOOLS_METRICS_NAMESPACE, fn.id).toBe('ServerlessOpenClaw/prod');
      expect(fn.env.POWERTOOLS_TRACE_ENABLED, fn.id).toBe('false');
      expect(fn.tracing, fn.id).toBeUndefined();
    }
    defaults.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });

  it('with monitoring.tracing, traces every function but the every-minute watchdog, and lets each write segments', () => {
    const fns = functionsOf(everything);
    const watchdog = fns.filter((fn) => fn.env.POWERTOOLS_SERVICE_NAME === 'runtime-watchdog');
    expect(watchdog).toHaveLength(1);
    expect(watchdog[0]?.tracing).toBeUndefined();
    expect(watchdog[0]?.env.POWERTOOLS_TRACE_ENABLED).toBe('false');
    const traced = fns.filter((fn) => fn.env.POWERTOOLS_SERVICE_NAME !== 'runtime-watchdog');
    for (const fn of traced) {
      expect(fn.tracing, fn.id).toEqual({ Mode: 'Active' });
      expect(fn.env.POWERTOOLS_TRACE_ENABLED, fn.id).toBe('true');
    }
    const policies = Object.entries(everything.findResources('AWS::IAM::ManagedPolicy') as Resources);
    expect(policies).toHaveLength(1);
    const [policyId, policy] = policies[0]!;
    expect(JSON.stringify(policy.Properties?.PolicyDocument)).toContain('xray:PutTraceSegments');
    // Attached to the role of every traced function, and of the watchdog's not.
    const roles = everything.findResources('AWS::IAM::Role') as Resources;
    const attached = (fn: { role?: { 'Fn::GetAtt'?: [string, string] } }) =>
      JSON.stringify(roles[fn.role?.['Fn::GetAtt']?.[0] ?? '']?.Properties?.ManagedPolicyArns ?? []).includes(
        policyId,
      );
    expect(traced.every(attached)).toBe(true);
    expect(attached(watchdog[0]!)).toBe(false);
  });

  it('turns the Fargate task’s EMF lines into the same metrics with one metric filter each', () => {
    const taskMetrics = EXPECTED_METRICS.filter((m) => m.fromTask).map((m) => m.name);
    expect(taskMetrics).toEqual(
      expect.arrayContaining(['ReplyLatency', 'FargateTaskSeconds', 'InputTokens', 'EstimatedLlmCostUsd']),
    );
    const filters = Object.values(defaults.findResources('AWS::Logs::MetricFilter') as Resources);
    expect(filters).toHaveLength(taskMetrics.length);
    for (const name of taskMetrics)
      defaults.hasResourceProperties('AWS::Logs::MetricFilter', {
        FilterPattern: `{ $.${name} = "*" }`,
        LogGroupName: { Ref: Match.stringLikeRegexp('TaskLogs') },
        MetricTransformations: [
          {
            MetricNamespace: 'ServerlessOpenClaw/prod',
            MetricName: name,
            MetricValue: `$.${name}`,
            Dimensions: [{ Key: 'service', Value: '$.service' }],
          },
        ],
      });
    // The task publishes under the same namespace as the functions.
    defaults.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            { Name: 'POWERTOOLS_METRICS_NAMESPACE', Value: 'ServerlessOpenClaw/prod' },
          ]),
        }),
      ],
    });
  });
  afterAll(() => Promise.all(outdirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  it('adds the errors and long-task alarms but no dashboard or budget by default, staying in the free ten', () => {
    defaults.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    defaults.resourceCountIs('AWS::Budgets::Budget', 0);
    defaults.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: Match.absent(),
      AlarmActions: [{ Ref: Match.stringLikeRegexp('^Alarms') }],
    });
    defaults.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ServerlessOpenClaw/prod',
      MetricName: 'OldestTaskAgeSeconds',
      Statistic: 'Maximum',
      Threshold: 4 * 3600,
      TreatMissingData: 'notBreaching',
    });
    // 5 dead-letter alarms + schedule fires + watchdog + these 2: none duplicated, all plain (1 metric each).
    const alarms = Object.values(defaults.findResources('AWS::CloudWatch::Alarm') as Resources);
    expect(alarms).toHaveLength(9);
    expect(alarms.every((a) => a.Properties?.Metrics === undefined)).toBe(true);
  });

  it('can turn the two extra alarms off', async () => {
    const template = await synth({ monitoring: { alarms: false } });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
  }, 120_000);

  it('draws every expected metric on one dashboard within the free tier’s 50 metrics', () => {
    const dashboards = Object.values(everything.findResources('AWS::CloudWatch::Dashboard') as Resources);
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]!.Properties?.DashboardBody);
    for (const metric of EXPECTED_METRICS.filter((m) => m.name !== 'OldestTaskAgeSeconds'))
      expect(body).toContain(`\\"${metric.name}\\"`);
    for (const title of [
      'Messages in',
      'Messages by channel',
      'Reply latency',
      'Cold starts',
      'Errors',
      'Dead letters',
      'Fargate task hours',
      'LLM tokens',
      'Estimated LLM cost',
    ])
      expect(body).toContain(title);
    // Latency at p50 and p99; both cold-start metrics; every dead-letter queue.
    expect(body).toContain('\\"stat\\":\\"p50\\"');
    expect(body).toContain('\\"stat\\":\\"p99\\"');
    expect(body).toContain('\\"function_name\\",\\"handlers\\"');
    expect(body).toContain('\\"function_name\\",\\"agent\\"');
    const queues = Object.keys(everything.findResources('AWS::SQS::Queue'));
    expect(queues.length).toBeGreaterThanOrEqual(6);
    expect(body.match(/ApproximateNumberOfMessagesVisible/g)).toHaveLength(queues.length);
    expect(body).toContain('stats sum(MessagesReceived) as messages by channel');
    // Each metric line starts with its namespace; the free tier covers dashboards of up to 50 metrics.
    const metricLines = body.match(/\[\\"(AWS\/Lambda|ServerlessOpenClaw\/prod)\\"/g) ?? [];
    expect(metricLines.length).toBeGreaterThan(10);
    expect(metricLines.length).toBeLessThanOrEqual(50);
    everything.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OldestTaskAgeSeconds',
      Threshold: 2 * 3600,
    });
  });

  it('e-mails the budget’s owner when the month’s actual or forecast cost passes the amount', () => {
    everything.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: 5, Unit: 'USD' },
        BudgetName: 'openclaw-prod-monthly',
      },
      NotificationsWithSubscribers: ['ACTUAL', 'FORECASTED'].map((type) => ({
        Notification: {
          NotificationType: type,
          ComparisonOperator: 'GREATER_THAN',
          Threshold: 100,
          ThresholdType: 'PERCENTAGE',
        },
        Subscribers: [{ SubscriptionType: 'EMAIL', Address: 'owner@example.com' }],
      })),
    });
  });

  it('refuses a budget without an e-mail or with a non-positive amount', () => {
    expect(DeploymentConfigSchema.safeParse({ budget: { monthlyUsd: 5 } }).success).toBe(false);
    expect(DeploymentConfigSchema.safeParse({ budget: { monthlyUsd: 0, email: 'a@b.co' } }).success).toBe(
      false,
    );
    expect(DeploymentConfigSchema.safeParse({ budget: { monthlyUsd: 5, email: 'a@b.co' } }).success).toBe(
      true,
    );
  });
});
