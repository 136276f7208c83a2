import { beforeAll, describe, expect, it } from 'vitest';
import { DeploymentConfigSchema } from '../cdk/config.ts';
import { buildInventory } from './inventory.ts';
import { priceDeployment } from './model.ts';
import { parseUsageProfile, SCENARIOS } from './profile.ts';
import { type CloudAssembly, synthesize } from './templates.ts';

describe('the cost of the real app (synthesized offline)', () => {
  let assembly: CloudAssembly;
  const idle = parseUsageProfile(SCENARIOS.idle);

  beforeAll(async () => {
    assembly = await synthesize(DeploymentConfigSchema.parse({}));
  }, 120_000);

  it('knows every resource type the app deploys, and its two agent images', () => {
    const inventory = buildInventory(assembly.stacks, assembly.containerImages);
    expect(inventory.unpriced).toEqual([]);
    expect(assembly.containerImages.map((i) => i.target).sort()).toEqual(['fargate', 'lambda']);
    expect(inventory.functions.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'AgentLambda',
        'RuntimeWatchdog',
        'RuntimeSelector',
        'WebProducer',
        'WebConsumer',
      ]),
    );
  });

  it('computes an idle cost that is the sum of its lines, within the $0.10 target on the free tier', () => {
    // Act
    const inventory = buildInventory(assembly.stacks, assembly.containerImages);
    const free = priceDeployment(inventory, idle, { freeTier: true });
    const none = priceDeployment(inventory, idle, { freeTier: false });

    // Assess
    for (const table of [free, none]) {
      expect(table.totalUsd).toBeCloseTo(
        table.lines.reduce((sum, l) => sum + l.usd, 0),
        9,
      );
      expect(table.usageUsd).toBe(0);
      expect(table.totalUsd).toBe(table.fixedUsd);
    }
    expect(free.totalUsd).toBeGreaterThan(0);
    expect(free.totalUsd).toBeLessThanOrEqual(0.1);
    // The watchdog runs every minute whether or not anyone chats.
    expect(none.lines.find((l) => l.item === 'RuntimeWatchdog requests')?.quantity).toBeCloseTo(43_800, 0);
    // Without the free tier the existing alarms alone are $0.10 each.
    expect(none.lines.find((l) => l.item === 'alarms')?.quantity).toBeGreaterThanOrEqual(8);
  });

  it('shows a NAT gateway added to a template as about $32 a month of fixed cost', () => {
    // Prepare
    const inventory = buildInventory(assembly.stacks, assembly.containerImages);
    const before = priceDeployment(inventory, idle).fixedUsd;
    const app = assembly.stacks.find((s) => s.stackName.endsWith('-app'))!;
    const withNat = assembly.stacks.map((s) =>
      s === app
        ? {
            ...s,
            template: { Resources: { ...s.template.Resources, Nat: { Type: 'AWS::EC2::NatGateway' } } },
          }
        : s,
    );

    // Act
    const after = priceDeployment(buildInventory(withNat, assembly.containerImages), idle).fixedUsd;

    // Assess
    expect(after - before).toBeGreaterThan(32);
    expect(after - before).toBeLessThan(33);
  });

  it('meets the 30-messages-a-day-on-Lambda target on the free tier', () => {
    const inventory = buildInventory(assembly.stacks, assembly.containerImages);
    const table = priceDeployment(inventory, parseUsageProfile(SCENARIOS.lambda30), { freeTier: true });
    expect(table.usageUsd).toBeGreaterThan(0);
    expect(table.totalUsd).toBeLessThanOrEqual(1);
  });
});
