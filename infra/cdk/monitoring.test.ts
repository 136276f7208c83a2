import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
      monitoring: { dashboard: true, maxTaskHours: 2 },
      budget: { monthlyUsd: 5, email: 'owner@example.com' },
    });
  }, 180_000);
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
      'Reply latency',
      'Agent cold starts',
      'Errors',
      'Fargate task hours',
      'LLM tokens',
      'Estimated LLM cost',
    ])
      expect(body).toContain(title);
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
