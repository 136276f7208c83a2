import { describe, expect, it } from 'vitest';
import { buildInventory, type StackTemplate } from './inventory.ts';
import { metricHoursPerDay, priceDeployment } from './model.ts';
import { HOURS_PER_MONTH } from './prices.ts';
import { parseUsageProfile, SCENARIOS } from './profile.ts';

/** A small template with one of each thing that bills every month, and a few that bill nothing. */
function knownTemplate(): StackTemplate {
  const alarm = (n: number) => [
    `Alarm${n}`,
    { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'Errors', Period: 300 } },
  ];
  return {
    stackName: 'tiny',
    template: {
      Resources: {
        Fn12345678: {
          Type: 'AWS::Lambda::Function',
          Properties: { MemorySize: 1024, Architectures: ['arm64'] },
        },
        ...Object.fromEntries(Array.from({ length: 11 }, (_, i) => alarm(i))),
        MathAlarm: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            Metrics: [
              { Id: 'a', MetricStat: { Period: 300 } },
              { Id: 'b', MetricStat: { Period: 300 } },
              { Id: 'c', MetricStat: { Period: 300 } },
              { Id: 'sum', Expression: 'a+b+c' },
            ],
          },
        },
        FastAlarm: { Type: 'AWS::CloudWatch::Alarm', Properties: { MetricName: 'X', Period: 10 } },
        ...Object.fromEntries(
          ['D1', 'D2', 'D3', 'D4'].map((id) => [id, { Type: 'AWS::CloudWatch::Dashboard' }]),
        ),
        Key1: { Type: 'AWS::KMS::Key' },
        Key2: { Type: 'AWS::KMS::Key' },
        Secret: { Type: 'AWS::SecretsManager::Secret' },
        Nat: { Type: 'AWS::EC2::NatGateway' },
        Ip: { Type: 'AWS::EC2::EIP' },
        Alb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Type: 'application' } },
        Nlb: { Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer', Properties: { Type: 'network' } },
        Endpoint: {
          Type: 'AWS::EC2::VPCEndpoint',
          Properties: { VpcEndpointType: 'Interface', SubnetIds: ['a', 'b'] },
        },
        Live: {
          Type: 'AWS::Lambda::Alias',
          Properties: {
            FunctionName: { Ref: 'Fn12345678' },
            ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
          },
        },
        Every5: {
          Type: 'AWS::Events::Rule',
          Properties: {
            ScheduleExpression: 'rate(5 minutes)',
            Targets: [{ Arn: { 'Fn::GetAtt': ['Fn12345678', 'Arn'] } }],
          },
        },
        Role: { Type: 'AWS::IAM::Role' },
        Queue: { Type: 'AWS::SQS::Queue' },
        Mystery: { Type: 'AWS::Foo::Bar' },
      },
    },
  };
}

const idle = parseUsageProfile({ ...SCENARIOS.idle, imageGb: {} });
const line = (table: ReturnType<typeof priceDeployment>, item: string) =>
  table.lines.find((l) => l.item === item);

describe('the cost model on a known template', () => {
  it('counts each resource type that bills by the month', () => {
    // Act
    const inventory = buildInventory([knownTemplate()]);

    // Assess
    expect(inventory).toMatchObject({
      alarmMetrics: 14, // 11 plain alarms + a metric-math alarm reading 3 metrics
      highResolutionAlarmMetrics: 1,
      dashboards: 4,
      kmsKeys: 2,
      secrets: 1,
      natGateways: 1,
      elasticIps: 1,
      applicationLoadBalancers: 1,
      networkLoadBalancers: 1,
      interfaceEndpointAzs: 2,
      provisionedConcurrency: [{ logicalId: 'Live', executions: 2, memoryMb: 1024, arch: 'arm64' }],
      scheduledRules: [{ logicalId: 'Every5', runsPerMonth: 12 * HOURS_PER_MONTH, targets: ['Fn12345678'] }],
      functions: [{ name: 'Fn', memoryMb: 1024, arch: 'arm64', ephemeralMb: 512 }],
    });
    expect(inventory.unpriced).toEqual(['AWS::Foo::Bar']);
  });

  it('prices the fixed items at list price, with and without the always-free tier', () => {
    // Prepare
    const inventory = buildInventory([knownTemplate()]);

    // Act
    const free = priceDeployment(inventory, idle, { freeTier: true });
    const none = priceDeployment(inventory, idle, { freeTier: false });

    // Assess: 10 alarm metrics and 3 dashboards are free; nothing else here is.
    expect(line(free, 'alarms')?.usd).toBeCloseTo(0.4, 6);
    expect(line(none, 'alarms')?.usd).toBeCloseTo(1.4, 6);
    expect(line(none, 'high-resolution alarms')?.usd).toBeCloseTo(0.3, 6);
    expect(line(free, 'dashboards')?.usd).toBeCloseTo(3, 6);
    expect(line(none, 'dashboards')?.usd).toBeCloseTo(12, 6);
    expect(line(free, 'customer managed keys')?.usd).toBeCloseTo(2, 6);
    expect(line(free, 'secrets')?.usd).toBeCloseTo(0.4, 6);
    expect(line(free, 'NAT gateways')?.usd).toBeCloseTo(32.85, 2);
    expect(line(free, 'Elastic IPs')?.usd).toBeCloseTo(3.65, 2);
    expect(line(free, 'application load balancers')?.usd).toBeCloseTo(16.425, 3);
    expect(line(free, 'network load balancers')?.usd).toBeCloseTo(16.425, 3);
    expect(line(free, 'interface endpoints')?.usd).toBeCloseTo(14.6, 2);
    // 2 executions × 1 GB × 730 h × 3600 s × $0.0000033334
    expect(line(free, 'provisioned concurrency Live')?.usd).toBeCloseTo(17.52, 1);
    for (const table of [free, none]) {
      expect(table.totalUsd).toBeCloseTo(table.fixedUsd + table.usageUsd, 9);
      expect(table.totalUsd).toBeCloseTo(
        table.lines.reduce((sum, l) => sum + l.usd, 0),
        9,
      );
    }
  });

  it('bills a scheduled function’s runs as fixed cost, inside the free tier when it applies', () => {
    // Prepare
    const inventory = buildInventory([knownTemplate()]);

    // Act
    const free = priceDeployment(inventory, idle, { freeTier: true });
    const none = priceDeployment(inventory, idle, { freeTier: false });

    // Assess: 8,760 runs × 0.2 s × 1 GB
    expect(line(none, 'Fn requests')).toMatchObject({ kind: 'fixed', quantity: 8760 });
    expect(line(none, 'Fn duration')?.quantity).toBeCloseTo(1752, 6);
    expect(line(none, 'Fn duration')?.usd).toBeCloseTo(1752 * 0.0000133334, 9);
    expect(line(free, 'Fn duration')?.usd).toBe(0);
  });

  it('bills custom metrics by the metric-hours the profile gives each, and none while idle', () => {
    // Prepare
    const inventory = buildInventory([knownTemplate()]);
    const busy = parseUsageProfile({ messagesPerDay: 30, activeHoursPerDay: 6, imageGb: {} });

    // Act
    const hours = metricHoursPerDay(busy);
    const none = priceDeployment(inventory, busy, { freeTier: false });

    // Assess: 6 metrics in every active hour (6), the agent's cold start in 6 (10.5 cold turns), errors
    // in 0.6 (30 × 2%), no task metrics: 42.6 metric-hours a day
    expect(hours).toBeCloseTo(6 * 6 + 6 + 0.6, 9);
    expect(metricHoursPerDay(idle)).toBe(0);
    const metricLine = none.lines.find((l) => l.meter === 'cloudwatch.customMetrics');
    expect(metricLine?.quantity).toBeCloseTo((hours * 730) / 24 / 730, 9);
    expect(metricLine?.usd).toBeCloseTo(((hours * 730) / 24 / 730) * 0.3, 9);
    // A task running 4 h a day bills the oldest-task metric in those 4 hours, one stop an hour.
    const fargate = parseUsageProfile({ ...busy, fargateHoursPerDay: 4, fargateStartsPerDay: 2 });
    expect(metricHoursPerDay(fargate) - hours).toBeCloseTo(4 + 2, 9);
  });

  it('counts one X-Ray trace per invocation of a traced function, free up to 100,000 a month', () => {
    // Prepare: the same function, traced
    const template = knownTemplate();
    const resources = template.template.Resources as Record<string, { Properties: Record<string, unknown> }>;
    resources.Fn12345678!.Properties.TracingConfig = { Mode: 'Active' };
    const inventory = buildInventory([template]);
    const untraced = buildInventory([knownTemplate()]);
    const busy = parseUsageProfile({ messagesPerDay: 30, imageGb: {} });

    // Act
    const none = priceDeployment(inventory, busy, { freeTier: false });
    const free = priceDeployment(inventory, busy, { freeTier: true });

    // Assess: the scheduled runs are fixed and not in the invocation count; the API calls are not this
    // function's, so a traced function nobody calls records nothing
    expect(inventory.functions[0]?.traced).toBe(true);
    expect(untraced.functions[0]?.traced).toBe(false);
    const traces = none.lines.find((l) => l.meter === 'xray.traces');
    if (traces) {
      expect(traces.usd).toBeCloseTo(traces.quantity * 0.000005, 12);
      expect(free.lines.find((l) => l.meter === 'xray.traces')?.usd).toBe(0);
    }
    expect(priceDeployment(untraced, busy).lines.some((l) => l.meter === 'xray.traces')).toBe(false);
  });
});
