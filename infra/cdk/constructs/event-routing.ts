import { Duration } from 'aws-cdk-lib';
import { type IAlarmAction, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Archive, type CfnRule, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ROUTES, type Route, TARGETS, type TargetId } from '../../../bus/routing-table.ts';

/** Targets every deployment has: the compiler insists on a function for each. */
export type RequiredTargetId = Extract<
  TargetId,
  'runtime-selector' | 'agent' | 'web-consumer' | 'schedule-producer'
>;

/**
 * The function behind each target id: the required ones always, a chat channel's consumer only when the
 * channel is enabled in deploy.config.json.
 */
export type RoutingTargets = Record<RequiredTargetId, IFunction> & Partial<Record<TargetId, IFunction>>;

export interface EventRoutingProps {
  targets: RoutingTargets;
  archiveRetentionDays: number;
  alarmAction: IAlarmAction;
  /** @default ROUTES */
  routes?: readonly Route[];
}

/**
 * The custom bus, an archive for replay, and one EventBridge rule per entry of the routing table in
 * `bus/` — the patterns are taken from it verbatim, never copied. A route whose target is not deployed
 * (its channel is disabled) gets no rule, just as the local bus skips a target without a handler. Every
 * deployed target has a dead-letter queue that receives both EventBridge delivery failures and Lambda
 * handler failures, and an alarm on it.
 */
export class EventRouting extends Construct {
  readonly bus: EventBus;
  /** One per deployed target. */
  readonly deadLetterQueues: Partial<Record<TargetId, Queue>>;
  /** The routes that got a rule (those whose target is deployed). */
  readonly deployedRoutes: readonly Route[];

  constructor(scope: Construct, id: string, props: EventRoutingProps) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus');
    new Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      // Only what can usefully be replayed: incoming messages. Replies (full text, deltas) go to
      // connections that no longer exist, and keeping them would keep message text for no reason.
      eventPattern: { detailType: ['MessageReceived.v1'] },
      retention: Duration.days(props.archiveRetentionDays),
      description: 'Incoming messages, for replay after a fix.',
    });

    const queues: Partial<Record<TargetId, Queue>> = {};
    for (const targetId of Object.keys(TARGETS) as TargetId[]) {
      const target = props.targets[targetId];
      if (!target) continue;
      const definition = TARGETS[targetId];
      const queue = new Queue(this, `${targetId}-dlq`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      queues[targetId] = queue;
      // Handler failures (the function threw after Lambda's own retries) go to the same queue.
      target.configureAsyncInvoke({
        retryAttempts: definition.retryAttempts,
        maxEventAge: Duration.seconds(definition.maxEventAgeSeconds),
        onFailure: new SqsDestination(queue),
      });
      queue
        .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) })
        .createAlarm(this, `${targetId}-dlq-alarm`, {
          alarmDescription: `Events for ${targetId} could not be handled and wait in its dead-letter queue.`,
          threshold: 1,
          evaluationPeriods: 1,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        })
        .addAlarmAction(props.alarmAction);
    }
    this.deadLetterQueues = queues;

    const deployed: Route[] = [];
    for (const route of props.routes ?? ROUTES) {
      const target = props.targets[route.target];
      const queue = queues[route.target];
      if (!target || !queue) continue;
      deployed.push(route);
      const rule = new Rule(this, route.name, {
        eventBus: this.bus,
        description: route.description,
        // Placeholder so the L2 construct validates; the real pattern is set verbatim just below.
        eventPattern: { source: ['placeholder'] },
      });
      (rule.node.defaultChild as CfnRule).addPropertyOverride('EventPattern', route.pattern);
      rule.addTarget(
        new LambdaFunction(target, {
          deadLetterQueue: queue,
          retryAttempts: route.delivery.maximumRetryAttempts,
          maxEventAge: Duration.seconds(route.delivery.maximumEventAgeSeconds),
        }),
      );
    }
    this.deployedRoutes = deployed;
  }
}
