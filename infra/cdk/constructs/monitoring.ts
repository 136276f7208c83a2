import { Duration, Stack } from 'aws-cdk-lib';
import { CfnBudget } from 'aws-cdk-lib/aws-budgets';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarmAction,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { DeploymentConfig } from '../config.ts';

/** A metric the handlers publish with Powertools Metrics (EMF), under `metricsNamespace(stage)`. */
export interface ExpectedMetric {
  name: string;
  unit: 'Count' | 'Milliseconds' | 'Seconds' | 'None';
  /** The `service` dimension (Powertools' default dimension) of the handler that publishes it. */
  service: string;
  description: string;
}

/**
 * The custom metrics the dashboard and alarms read, each with the `service` dimension only (Powertools
 * adds it by default; every other dimension would be another billed metric). Publishing them from the
 * handlers is a later step: until then these widgets stay empty and the long-task alarm stays OK.
 * `ColdStart` is Powertools' own (`captureColdStartMetric`), with a `function_name` dimension too.
 * Each metric bills $0.30 a month pro rata for the hours it is emitted (10 are free), so none is
 * published while nobody chats: the watchdog emits `OldestTaskAgeSeconds` only while a task runs.
 */
export const EXPECTED_METRICS: readonly ExpectedMetric[] = [
  {
    name: 'MessagesReceived',
    unit: 'Count',
    service: 'runtime-selector',
    description: 'messages in, one per MessageReceived',
  },
  {
    name: 'ReplyLatency',
    unit: 'Milliseconds',
    service: 'agent',
    description: 'receivedAt to ReplyCompleted, both runtimes',
  },
  {
    name: 'ColdStart',
    unit: 'Count',
    service: 'agent',
    description: 'agent Lambda cold starts (Powertools)',
  },
  { name: 'TurnErrors', unit: 'Count', service: 'agent', description: 'turns answered with an error' },
  {
    name: 'FargateTaskSeconds',
    unit: 'Seconds',
    service: 'agent',
    description: 'a task’s lifetime, emitted when it stops',
  },
  { name: 'InputTokens', unit: 'Count', service: 'agent', description: 'LLM input tokens a turn' },
  { name: 'OutputTokens', unit: 'Count', service: 'agent', description: 'LLM output tokens a turn' },
  {
    name: 'EstimatedLlmCostUsd',
    unit: 'None',
    service: 'agent',
    description: 'tokens times the model’s list price',
  },
  {
    name: 'OldestTaskAgeSeconds',
    unit: 'Seconds',
    service: 'runtime-watchdog',
    description: 'age of the oldest running task, each sweep while one runs',
  },
];

/** The namespace the handlers publish under: one per stage, so two deployments in an account stay apart. */
export const metricsNamespace = (stage: string) => `ServerlessOpenClaw/${stage}`;

export interface MonitoringProps {
  config: DeploymentConfig;
  /** Where alarms notify (the app's alarm topic). */
  alarmAction: IAlarmAction;
  /** The agent Lambda, for its cold-start metric's `function_name` dimension. */
  agentFunction: { functionName: string };
}

/**
 * Dashboard, alarms and budget of one deployment (`monitoring` and `budget` in deploy.config.json).
 * Dead-letter alarms already exist for every bus target and for the schedule fires (event-routing.ts,
 * app-stack.ts); this adds one alarm on Lambda errors (the region's `Errors` across all functions: one
 * alarm metric, where one per function would take a deployment past CloudWatch's ten free alarms) and
 * one on a Fargate task running longer than `monitoring.maxTaskHours`. The dashboard is off by default:
 * CloudWatch gives three free, and a fourth would cost $3 a month — thirty times the idle target.
 * Create it after all the stack's functions: its errors widget lists every function in the stack.
 */
export class Monitoring extends Construct {
  readonly dashboard?: Dashboard;
  readonly alarms: Alarm[] = [];
  readonly budget?: CfnBudget;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { monitoring, budget, stage } = props.config;
    const namespace = metricsNamespace(stage);
    const custom = (name: string, statistic: string, extra: Record<string, string> = {}) => {
      const metric = EXPECTED_METRICS.find((m) => m.name === name)!;
      return new Metric({
        namespace,
        metricName: name,
        dimensionsMap: { service: metric.service, ...extra },
        statistic,
        period: Duration.minutes(5),
      });
    };

    if (monitoring.alarms) {
      this.alarms.push(
        new Alarm(this, 'LambdaErrors', {
          alarmDescription:
            'Lambda functions in this region threw errors (the dashboard shows which; dead letters have their own alarms).',
          metric: new Metric({
            namespace: 'AWS/Lambda',
            metricName: 'Errors',
            statistic: 'Sum',
            period: Duration.minutes(15),
          }),
          threshold: 3,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
        new Alarm(this, 'TaskRunningTooLong', {
          alarmDescription: `An agent task has run for more than ${monitoring.maxTaskHours} h: Fargate bills it by the second.`,
          metric: custom('OldestTaskAgeSeconds', 'Maximum'),
          threshold: monitoring.maxTaskHours * 3600,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      );
      for (const alarm of this.alarms) alarm.addAlarmAction(props.alarmAction);
    }

    if (monitoring.dashboard) {
      const functions = Stack.of(this)
        .node.findAll()
        .filter((c): c is LambdaFunction => c instanceof LambdaFunction);
      const graph = (title: string, left: (Metric | MathExpression)[]) =>
        new GraphWidget({ title, left, width: 8, height: 6 });
      this.dashboard = new Dashboard(this, 'Dashboard', {
        dashboardName: `openclaw-${stage}`,
        defaultInterval: Duration.days(1),
      });
      this.dashboard.addWidgets(
        graph('Messages in', [custom('MessagesReceived', 'Sum')]),
        graph('Reply latency (ms)', [custom('ReplyLatency', 'p50'), custom('ReplyLatency', 'p90')]),
        graph('Agent cold starts', [
          custom('ColdStart', 'Sum', { function_name: props.agentFunction.functionName }),
        ]),
      );
      this.dashboard.addWidgets(
        graph('Errors', [
          custom('TurnErrors', 'Sum'),
          ...functions.map((fn) => fn.metricErrors({ period: Duration.minutes(5) })),
        ]),
        graph('Fargate task hours', [
          new MathExpression({
            expression: 'seconds / 3600',
            usingMetrics: { seconds: custom('FargateTaskSeconds', 'Sum') },
            label: 'task hours',
            period: Duration.hours(1),
          }),
        ]),
        graph('LLM tokens', [custom('InputTokens', 'Sum'), custom('OutputTokens', 'Sum')]),
      );
      this.dashboard.addWidgets(graph('Estimated LLM cost (USD)', [custom('EstimatedLlmCostUsd', 'Sum')]));
    }

    if (budget) {
      // Account-wide: filtering to this app would need cost allocation tags activated by hand first.
      const notify = (notificationType: 'ACTUAL' | 'FORECASTED') => ({
        notification: {
          notificationType,
          comparisonOperator: 'GREATER_THAN',
          threshold: 100,
          thresholdType: 'PERCENTAGE',
        },
        subscribers: [{ subscriptionType: 'EMAIL', address: budget.email }],
      });
      this.budget = new CfnBudget(this, 'Budget', {
        budget: {
          budgetName: `openclaw-${stage}-monthly`,
          budgetType: 'COST',
          timeUnit: 'MONTHLY',
          budgetLimit: { amount: budget.monthlyUsd, unit: 'USD' },
        },
        notificationsWithSubscribers: [notify('ACTUAL'), notify('FORECASTED')],
      });
    }
  }
}
