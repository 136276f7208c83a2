import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../bus/routing-table.ts';
import { buildInventory } from './inventory.ts';
import { deliveriesOf, eventsPerMessage, messageRequests } from './message-path.ts';
import { priceDeployment } from './model.ts';
import { DAYS_PER_MONTH } from './prices.ts';
import { parseUsageProfile } from './profile.ts';

describe('the requests one message causes', () => {
  it('delivers each event the routing table routes, to the channel’s own consumer', () => {
    // Prepare: 8 deltas, so MessageReceived + 2 statuses + 8 deltas + completed = 12 events
    const web = parseUsageProfile({ replyDeltas: 8 });
    const telegram = parseUsageProfile({ replyDeltas: 8, channel: 'telegram' });

    // Act
    const toWeb = deliveriesOf(eventsPerMessage(web), 'web');
    const toTelegram = deliveriesOf(eventsPerMessage(telegram), 'telegram');

    // Assess
    expect(toWeb).toEqual({ 'runtime-selector': 1, 'web-consumer': 11, history: 2 });
    expect(toTelegram).toEqual({ 'runtime-selector': 1, 'telegram-consumer': 11, history: 2 });
    // A route removed from the table is a delivery less.
    const withoutReplies = ROUTES.filter((r) => r.target !== 'web-consumer');
    expect(deliveriesOf(eventsPerMessage(web), 'web', withoutReplies)).toEqual({
      'runtime-selector': 1,
      history: 2,
    });
  });

  it('counts events, invocations and storage requests of a Lambda turn', () => {
    // Act
    const requests = messageRequests(
      parseUsageProfile({
        replyDeltas: 8,
        agentTurnSeconds: 10,
        agentColdStartShare: 0.5,
        agentColdStartSeconds: 14,
        replyKb: 2,
      }),
      'lambda',
    );

    // Assess
    expect(requests.events).toBe(12);
    expect(requests.invocations).toEqual({
      producer: 1,
      'runtime-selector': 1,
      'web-consumer': 11,
      agent: 1,
      history: 2,
    });
    expect(requests.agentSeconds).toBe(17);
    // producer 0.5 + selector 2 + turn 2 + history 1 + stop polls 17 s × 0.5 + 11 deliveries × 0.5
    expect(requests.readUnits).toBe(19.5);
    // producer 2 + turn 3 + history 4 + 1 lock renewal (17 s) + 2 KB reply
    expect(requests.writeUnits).toBe(12);
    expect(requests).toMatchObject({ s3Gets: 1, s3Puts: 1, webSocketMessages: 13, httpRequests: 0 });
  });

  it('sends a Fargate turn to the task: no agent Lambda, no state restore per turn', () => {
    const requests = messageRequests(parseUsageProfile({}), 'fargate');
    expect(requests.invocations.agent).toBe(0);
    expect(requests.agentSeconds).toBe(0);
    expect(requests.s3Gets).toBe(0);
  });
});

describe('the monthly usage arithmetic', () => {
  const inventory = buildInventory([
    {
      stackName: 'app',
      template: {
        Resources: {
          AgentLambdaBE6EB9E3: {
            Type: 'AWS::Lambda::Function',
            Properties: { MemorySize: 2048, Architectures: ['arm64'], EphemeralStorage: { Size: 1536 } },
          },
          RuntimeSelector00D16081: {
            Type: 'AWS::Lambda::Function',
            Properties: { MemorySize: 256, Architectures: ['arm64'] },
          },
          Task: {
            Type: 'AWS::ECS::TaskDefinition',
            Properties: { Cpu: '1024', Memory: '2048', RuntimePlatform: { CpuArchitecture: 'ARM64' } },
          },
        },
      },
    },
  ]);
  const line = (table: ReturnType<typeof priceDeployment>, item: string) =>
    table.lines.find((l) => l.item === item);

  it('bills the agent’s GB-seconds per turn, and its /tmp above 512 MB', () => {
    // Prepare: 30 turns a day, 10 s each, no cold starts, on a 2 GB function
    const profile = parseUsageProfile({ messagesPerDay: 30, agentColdStartShare: 0 });

    // Act
    const table = priceDeployment(inventory, profile, { freeTier: false });

    // Assess
    const turns = 30 * DAYS_PER_MONTH;
    expect(line(table, 'AgentLambda requests')?.quantity).toBeCloseTo(turns, 6);
    expect(line(table, 'AgentLambda duration')?.quantity).toBeCloseTo(turns * 10 * 2, 6);
    expect(line(table, 'AgentLambda duration')?.usd).toBeCloseTo(turns * 20 * 0.0000133334, 9);
    expect(line(table, 'AgentLambda ephemeral storage')?.quantity).toBeCloseTo(turns * 10 * 1, 6);
    expect(line(table, 'RuntimeSelector requests')?.quantity).toBeCloseTo(turns, 6);
    expect(line(table, 'events put on the bus')?.quantity).toBeCloseTo(turns * 12, 6);
  });

  it('shares the free tier across the functions that draw on it', () => {
    // Prepare: 40,000 turns of 10 s at 2 GB = 800,000 GB-s, just over half of it billed after the 400,000 free
    const profile = parseUsageProfile({
      messagesPerDay: 40_000 / DAYS_PER_MONTH,
      agentColdStartShare: 0,
      handlerMs: 1,
    });

    // Act
    const free = priceDeployment(inventory, profile, { freeTier: true });
    const none = priceDeployment(inventory, profile, { freeTier: false });

    // Assess: the selector's tiny share is billed at the same fraction as the agent's
    const agentBillable = line(free, 'AgentLambda duration')!.usd / line(none, 'AgentLambda duration')!.usd;
    const selectorBillable =
      line(free, 'RuntimeSelector duration')!.usd / line(none, 'RuntimeSelector duration')!.usd;
    expect(agentBillable).toBeCloseTo(selectorBillable, 9);
    expect(agentBillable).toBeGreaterThan(0.5);
    expect(agentBillable).toBeLessThan(0.51);
  });

  it('bills Fargate by the task-hour of the task definition’s size, with its public IPv4 address', () => {
    // Act
    const table = priceDeployment(inventory, parseUsageProfile({ fargateShare: 1, fargateHoursPerDay: 2 }), {
      freeTier: true,
    });

    // Assess
    const hours = 2 * DAYS_PER_MONTH;
    expect(line(table, 'vCPU')?.usd).toBeCloseTo(hours * 1 * 0.03238, 6);
    expect(line(table, 'memory')?.usd).toBeCloseTo(hours * 2 * 0.00356, 6);
    expect(line(table, 'task public IPv4')?.usd).toBeCloseTo(hours * 0.005, 6);
    expect(line(table, 'AgentLambda requests')).toBeUndefined();
  });
});
