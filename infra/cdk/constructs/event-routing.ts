import { Duration } from 'aws-cdk-lib';
import { type IAlarmAction, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Archive, type CfnRule, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ROUTES, type Route, TARGETS, type TargetId } from '../../../bus/routing-table.ts';

export interface EventRoutingProps {
  /** The function behind each target id; the compiler insists every target has one. */
  targets: Record<TargetId, IFunction>;
  archiveRetentionDays: number;
  alarmAction: IAlarmAction;
  /** @default ROUTES */
  routes?: readonly Route[];
}

/**
 * The custom bus, an archive for replay, and one EventBridge rule per entry of the routing table in
 * `bus/` — the patterns are taken from it verbatim, never copied. Every target has a dead-letter queue
 * that receives both EventBridge delivery failures and Lambda handler failures, and an alarm on it.
 */
export class EventRouting extends Construct {
  readonly bus: EventBus;
  readonly deadLetterQueues: Record<TargetId, Queue>;

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

    const queues = {} as Record<TargetId, Queue>;
    for (const targetId of Object.keys(TARGETS) as TargetId[]) {
      const definition = TARGETS[targetId];
      const queue = new Queue(this, `${targetId}-dlq`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      queues[targetId] = queue;
      // Handler failures (the function threw after Lambda's own retries) go to the same queue.
      props.targets[targetId].configureAsyncInvoke({
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

    for (const route of props.routes ?? ROUTES) {
      const rule = new Rule(this, route.name, {
        eventBus: this.bus,
        description: route.description,
        // Placeholder so the L2 construct validates; the real pattern is set verbatim just below.
        eventPattern: { source: ['placeholder'] },
      });
      (rule.node.defaultChild as CfnRule).addPropertyOverride('EventPattern', route.pattern);
      rule.addTarget(
        new LambdaFunction(props.targets[route.target], {
          deadLetterQueue: queues[route.target],
          retryAttempts: route.delivery.maximumRetryAttempts,
          maxEventAge: Duration.seconds(route.delivery.maximumEventAgeSeconds),
        }),
      );
    }
  }
}
