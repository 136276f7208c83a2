/*
 * Helpers for the CDK tests (app.test.ts, channels.test.ts): the check that the deployed rules route
 * events exactly as the local bus does, from the one routing table.
 */
import type { CfnElement, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { LocalBus } from '../../bus/local-bus.ts';
import { matchesPattern } from '../../bus/pattern-matcher.ts';
import type { TargetId } from '../../bus/routing-table.ts';
import type { BusEnvelope } from '../../schemas/index.ts';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;

/** The logical id of a construct's CloudFormation resource (an L2 construct's default child). */
export function logicalIdIn(stack: Stack, construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.resolve(stack.getLogicalId(element)) as string;
}

/**
 * Routes every sample event through the deployed rules (by their patterns and target ARNs) and through a
 * local bus that runs exactly the deployed targets. Returns the target ids each sample reached, sorted;
 * `undefined` in `viaAws` means a rule invokes a function that is none of `deployedTargets`.
 */
export async function routeBothWays(
  stack: Stack,
  template: Template,
  deployedTargets: Partial<Record<TargetId, IConstruct>>,
  samples: BusEnvelope[] = sampleEvents(),
): Promise<{ viaAws: (TargetId | undefined)[][]; viaLocal: TargetId[][] }> {
  // Prepare: which function each deployed rule invokes, by target id
  const arnOf = (construct: IConstruct) =>
    JSON.stringify({ 'Fn::GetAtt': [logicalIdIn(stack, construct), 'Arn'] });
  const targetIdByArn = new Map<string, TargetId>(
    (Object.entries(deployedTargets) as [TargetId, IConstruct][]).map(([id, fn]) => [arnOf(fn), id]),
  );
  const deployed = Object.values(template.toJSON().Resources as Resources)
    .filter((r) => r.Type === 'AWS::Events::Rule' && r.Properties?.EventPattern)
    .map((r) => ({
      pattern: r.Properties?.EventPattern as never,
      targets: (r.Properties!.Targets as Record<string, unknown>[]).map((t) =>
        targetIdByArn.get(JSON.stringify(t.Arn)),
      ),
    }));

  // Act: route each sample through the deployed rules and through the local bus
  const viaAws = samples.map((event) =>
    deployed
      .filter((rule) => matchesPattern(rule.pattern, event))
      .flatMap((rule) => rule.targets)
      .sort(),
  );
  const viaLocal: TargetId[][] = [];
  for (const event of samples) {
    const hit: TargetId[] = [];
    const bus = new LocalBus({
      targets: Object.fromEntries(
        Object.keys(deployedTargets).map((id) => [id, async () => void hit.push(id as TargetId)]),
      ),
      // Routes to targets this deployment does not run are skipped, as they have no rule on AWS.
      logger: { warn: () => {}, error: console.error },
    });
    bus.putEvents([
      { Source: event.source, DetailType: event['detail-type'], Detail: JSON.stringify(event.detail) },
    ]);
    await bus.idle();
    viaLocal.push(hit.sort());
  }
  return { viaAws, viaLocal };
}

/** Events of every kind the system publishes, on every channel, plus some that no rule should take. */
export function sampleEvents(): BusEnvelope[] {
  const envelope = (source: string, detailType: string, detail: object) =>
    ({
      version: '0',
      id: 'x',
      source,
      'detail-type': detailType,
      account: '1',
      time: '',
      region: 'r',
      resources: [],
      detail,
    }) as BusEnvelope;
  const web = { channel: 'web', address: { connectionId: 'c=' } };
  const telegram = { channel: 'telegram', address: { chatId: 1 } };
  const discord = { channel: 'discord', address: { interactionToken: 't' } };
  const slack = { channel: 'slack', address: { channelId: 'C1' } };
  const events: BusEnvelope[] = [];
  for (const [channel, replyTo] of [
    ['web', web],
    ['telegram', telegram],
    ['discord', discord],
    ['slack', slack],
  ] as const) {
    events.push(
      envelope(`openclaw.${channel}`, 'MessageReceived.v1', { replyTo }),
      envelope('openclaw.agent', 'ReplyDelta.v1', { replyTo }),
      envelope('openclaw.agent', 'ReplyCompleted.v1', { replyTo }),
      envelope('openclaw.agent', 'AgentStatusChanged.v1', { replyTo }),
      // A producer cannot pose as the agent: a reply from anyone else reaches no consumer.
      envelope(`openclaw.${channel}`, 'ReplyCompleted.v1', { replyTo }),
    );
  }
  return [
    ...events,
    envelope('someone.else', 'MessageReceived.v1', { replyTo: web }),
    envelope('openclaw.agent', 'ReplyCompleted.v1', { replyTo: { channel: 'email', address: {} } }),
    envelope('openclaw.agent', 'PendingMessagesWaiting.v1', { userId: 'u', reason: 'task-exited' }),
    envelope('openclaw.web', 'PendingMessagesWaiting.v1', { userId: 'u', reason: 'task-exited' }),
    // A fired schedule, and the message its producer publishes for the job's owner.
    envelope('openclaw.scheduler', 'ScheduleFired.v1', { userId: 'u', scheduleId: 'j', replyTo: web }),
    envelope('openclaw.schedule', 'MessageReceived.v1', { replyTo: web }),
    // Nobody else can fire a schedule, and the schedule producer cannot fire one again.
    envelope('openclaw.web', 'ScheduleFired.v1', { userId: 'u', scheduleId: 'j', replyTo: web }),
    envelope('openclaw.schedule', 'ScheduleFired.v1', { userId: 'u', scheduleId: 'j', replyTo: web }),
  ];
}
