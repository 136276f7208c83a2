import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { CfnBudget } from 'aws-cdk-lib/aws-budgets';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarmAction,
  type IMetric,
  LogQueryVisualizationType,
  LogQueryWidget,
  MathExpression,
  Metric,
  TreatMissingData,
  Unit,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ContainerDefinition } from 'aws-cdk-lib/aws-ecs';
import { ManagedPolicy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type CfnFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { MetricName, MetricsService } from '../../../bus/observability.ts';
import type { DeploymentConfig } from '../config.ts';

/** A metric the handlers publish with Powertools Metrics (EMF), under `metricsNamespace(stage)`. */
export interface ExpectedMetric {
  name: MetricName;
  unit: 'Count' | 'Milliseconds' | 'Seconds' | 'None';
  /** The `service` dimension (bus/observability.ts `MetricsService`) of what publishes it. */
  service: MetricsService;
  /** Set for Powertools' `ColdStart`: its `function_name` dimension, equal to the service. */
  functionName?: string;
  description: string;
  /** Also published by the Fargate task, through a metric filter on its log group. */
  fromTask?: boolean;
}

/**
 * Every custom metric the handlers publish: ten distinct (name, dimensions) pairs, each with the
 * `service` dimension only (the two `ColdStart`s also `function_name`). Each bills $0.30 a month pro
 * rata for the hours it receives data (CloudWatch's free tier covers ten), so none is published while
 * nobody chats, and nothing per user, conversation or channel is a dimension (the channel is EMF
 * metadata, counted by the dashboard's Logs Insights widget). infra/cost counts their metric-hours.
 */
export const EXPECTED_METRICS: readonly ExpectedMetric[] = [
  {
    name: 'MessagesReceived',
    unit: 'Count',
    service: 'runtime-selector',
    description: 'messages in, one per MessageReceived (channel and source as metadata)',
  },
  {
    name: 'ReplyLatency',
    unit: 'Milliseconds',
    service: 'agent',
    description: 'receivedAt to ReplyCompleted, both runtimes',
    fromTask: true,
  },
  {
    name: 'ColdStart',
    unit: 'Count',
    service: 'agent',
    functionName: 'agent',
    description: 'agent Lambda cold starts (Powertools)',
  },
  {
    name: 'ColdStart',
    unit: 'Count',
    service: 'handlers',
    functionName: 'handlers',
    description: 'cold starts of all the small handlers together (Powertools)',
  },
  {
    name: 'TurnErrors',
    unit: 'Count',
    service: 'agent',
    description: 'turns answered with an error (a stop the user asked for is not one)',
    fromTask: true,
  },
  {
    name: 'FargateTaskSeconds',
    unit: 'Seconds',
    service: 'agent',
    description: 'a task’s lifetime, emitted when it stops',
    fromTask: true,
  },
  {
    name: 'InputTokens',
    unit: 'Count',
    service: 'agent',
    description: 'LLM input tokens a turn',
    fromTask: true,
  },
  {
    name: 'OutputTokens',
    unit: 'Count',
    service: 'agent',
    description: 'LLM output tokens a turn',
    fromTask: true,
  },
  {
    name: 'EstimatedLlmCostUsd',
    unit: 'None',
    service: 'agent',
    description: 'tokens times the model’s list price (agent/metrics/llm-prices.ts; an estimate)',
    fromTask: true,
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

const UNITS: Record<ExpectedMetric['unit'], Unit> = {
  Count: Unit.COUNT,
  Milliseconds: Unit.MILLISECONDS,
  Seconds: Unit.SECONDS,
  None: Unit.NONE,
};

export interface MonitoringProps {
  config: DeploymentConfig;
  /** Where alarms notify (the app's alarm topic). */
  alarmAction: IAlarmAction;
  /** The agent Lambda, whose cold starts have their own metric. */
  agentFunction: { functionName: string };
  /** The runtime selector: its log group holds the MessagesReceived lines with their channel. */
  selector: LambdaFunction;
  /** The watchdog runs every minute whether or not anyone chats: never traced. */
  watchdog: LambdaFunction;
  /** The Fargate task's container and log group: its EMF lines become metrics through metric filters. */
  agentContainer: ContainerDefinition;
  taskLogGroup: ILogGroup;
}

/**
 * Metrics wiring, dashboard, alarms and budget of one deployment (`monitoring` and `budget` in
 * deploy.config.json). Every function gets the metrics namespace and the tracing switch; with
 * `monitoring.tracing` every function but the watchdog gets X-Ray active tracing (Lambda samples the
 * first request each second and 5% of the rest: at this app's rates, nearly every invocation). The
 * Fargate task's EMF lines reach CloudWatch Logs through awslogs, which (unlike Lambda) does not mark
 * them as EMF: a metric filter per task metric publishes the very same metric, at no extra cost.
 * Dead-letter alarms already exist for every bus target and for the schedule fires (event-routing.ts,
 * app-stack.ts); this adds one alarm on Lambda errors (the region's `Errors` across all functions: one
 * alarm metric, where one per function would take a deployment past CloudWatch's ten free alarms) and
 * one on a Fargate task running longer than `monitoring.maxTaskHours`. The dashboard is off by default:
 * CloudWatch gives three free, and a fourth would cost $3 a month — thirty times the idle target.
 * Create it after all the stack's functions and queues: it wires every function and draws every queue.
 */
export class Monitoring extends Construct {
  readonly dashboard?: Dashboard;
  readonly alarms: Alarm[] = [];
  readonly budget?: CfnBudget;
  readonly taskMetricFilters: MetricFilter[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { monitoring, budget, stage } = props.config;
    const namespace = metricsNamespace(stage);
    const custom = (
      name: MetricName,
      statistic: string,
      service?: MetricsService,
      label?: string,
    ): Metric => {
      const metric = EXPECTED_METRICS.find((m) => m.name === name && (!service || m.service === service))!;
      return new Metric({
        namespace,
        metricName: name,
        dimensionsMap: {
          service: metric.service,
          ...(metric.functionName ? { function_name: metric.functionName } : {}),
        },
        statistic,
        period: Duration.minutes(5),
        ...(label ? { label } : {}),
      });
    };
    const stack = Stack.of(this);
    const functions = stack.node.findAll().filter((c): c is LambdaFunction => c instanceof LambdaFunction);

    // Every function publishes under this stage's namespace; tracing per deploy.config.json.
    const xrayWrite = monitoring.tracing
      ? new ManagedPolicy(this, 'XRayWrite', {
          description: 'Lets the traced functions send their X-Ray segments.',
          statements: [
            new PolicyStatement({
              actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
              resources: ['*'],
            }),
          ],
        })
      : undefined;
    if (xrayWrite)
      Validations.of(xrayWrite).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray’s PutTraceSegments and PutTelemetryRecords take no resource: `*` is the only form.',
      });
    for (const fn of functions) {
      const traced = xrayWrite !== undefined && fn !== props.watchdog;
      fn.addEnvironment('POWERTOOLS_METRICS_NAMESPACE', namespace);
      fn.addEnvironment('POWERTOOLS_TRACE_ENABLED', String(traced));
      if (!traced) continue;
      (fn.node.defaultChild as CfnFunction).tracingConfig = { mode: 'Active' };
      fn.role?.addManagedPolicy(xrayWrite);
    }
    props.agentContainer.addEnvironment('POWERTOOLS_METRICS_NAMESPACE', namespace);
    for (const metric of EXPECTED_METRICS.filter((m) => m.fromTask)) {
      this.taskMetricFilters.push(
        new MetricFilter(this, `Task${metric.name}`, {
          logGroup: props.taskLogGroup,
          filterPattern: FilterPattern.exists(`$.${metric.name}`),
          metricNamespace: namespace,
          metricName: metric.name,
          metricValue: `$.${metric.name}`,
          dimensions: { service: '$.service' },
          unit: UNITS[metric.unit],
        }),
      );
    }

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
      const queues = stack.node.findAll().filter((c): c is Queue => c instanceof Queue);
      const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
        new GraphWidget({ title, left, right, width: 8, height: 6 });
      this.dashboard = new Dashboard(this, 'Dashboard', {
        dashboardName: `openclaw-${stage}`,
        defaultInterval: Duration.days(1),
      });
      this.dashboard.addWidgets(
        graph('Messages in', [custom('MessagesReceived', 'Sum', undefined, 'messages')]),
        // The channel is metadata on the selector's EMF lines, not a billed dimension.
        new LogQueryWidget({
          title: 'Messages by channel',
          logGroupNames: [props.selector.logGroup.logGroupName],
          queryLines: [
            'filter ispresent(MessagesReceived)',
            'stats sum(MessagesReceived) as messages by channel',
            'sort messages desc',
          ],
          view: LogQueryVisualizationType.TABLE,
          width: 8,
          height: 6,
        }),
        graph('Reply latency (ms)', [
          custom('ReplyLatency', 'p50', undefined, 'p50'),
          custom('ReplyLatency', 'p99', undefined, 'p99'),
        ]),
      );
      this.dashboard.addWidgets(
        graph('Cold starts', [
          custom('ColdStart', 'Sum', 'agent', 'agent'),
          custom('ColdStart', 'Sum', 'handlers', 'small handlers'),
        ]),
        graph(
          'Errors',
          [custom('TurnErrors', 'Sum', undefined, 'turns answered with an error')],
          functions.map((fn) => fn.metricErrors({ period: Duration.minutes(5) })),
        ),
        graph(
          'Dead letters',
          queues.map((queue) =>
            queue.metricApproximateNumberOfMessagesVisible({
              period: Duration.minutes(5),
              statistic: 'Maximum',
            }),
          ),
        ),
      );
      this.dashboard.addWidgets(
        graph('Fargate task hours', [
          new MathExpression({
            expression: 'seconds / 3600',
            usingMetrics: { seconds: custom('FargateTaskSeconds', 'Sum') },
            label: 'task hours',
            period: Duration.hours(1),
          }),
        ]),
        graph('LLM tokens', [
          custom('InputTokens', 'Sum', undefined, 'input'),
          custom('OutputTokens', 'Sum', undefined, 'output'),
        ]),
        graph('Estimated LLM cost (USD, list prices)', [
          custom('EstimatedLlmCostUsd', 'Sum', undefined, 'estimated USD'),
        ]),
      );
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
