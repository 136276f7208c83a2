import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddyfiedHandler } from '@middy/core';
import type { Context } from 'aws-lambda';

/**
 * Metrics and tracing shared by every handler, so that names stay the same everywhere. Metrics are
 * CloudWatch EMF lines on stdout (Lambda turns them into metrics; on Fargate, metric filters on the
 * task's log group do). Every distinct (name, dimensions) pair is a custom metric billed $0.30 a month
 * pro rata for each hour it receives data, so the set is small and fixed: the `service` dimension takes
 * one of four values and nothing per user, conversation or channel is ever a dimension (the channel is
 * EMF metadata: a property of the log line, queryable in Logs Insights, not billed as a metric).
 */

/** The `service` dimension values: one per metric source, never one per function. */
export type MetricsService = 'agent' | 'runtime-selector' | 'runtime-watchdog' | 'handlers';

/** Every metric name the handlers publish (infra/cdk/constructs/monitoring.ts draws them). */
export const MetricNames = {
  messagesReceived: 'MessagesReceived',
  replyLatency: 'ReplyLatency',
  turnErrors: 'TurnErrors',
  fargateTaskSeconds: 'FargateTaskSeconds',
  inputTokens: 'InputTokens',
  outputTokens: 'OutputTokens',
  estimatedLlmCostUsd: 'EstimatedLlmCostUsd',
  oldestTaskAgeSeconds: 'OldestTaskAgeSeconds',
  /** Powertools' own (`captureColdStartMetric`), with a `function_name` dimension equal to the service. */
  coldStart: 'ColdStart',
} as const;
export type MetricName = (typeof MetricNames)[keyof typeof MetricNames];

export { MetricUnit };

/** Used when POWERTOOLS_METRICS_NAMESPACE is unset (the CDK app sets `ServerlessOpenClaw/<stage>`). */
export const DEFAULT_METRICS_NAMESPACE = 'ServerlessOpenClaw';

/**
 * Powertools warns on every flush without metrics ("No application metrics to publish"): true of most
 * invocations here, and a log line each would only cost ingestion. Everything else goes to stderr.
 */
const quietLogger: NonNullable<NonNullable<ConstructorParameters<typeof Metrics>[0]>['logger']> = {
  debug: () => undefined,
  info: () => undefined,
  warn: (...content: unknown[]) => {
    if (typeof content[0] === 'string' && content[0].startsWith('No application metrics')) return;
    console.warn(...content);
  },
  error: (...content: unknown[]) => console.error(...content),
};

/**
 * A Metrics instance for one source. The cold-start metric's `function_name` is the service too, so the
 * small handlers' cold starts add up in one metric instead of one metric per function.
 * Off with POWERTOOLS_METRICS_DISABLED=true (local mode and tests).
 * @example const metrics = createMetrics('runtime-selector'); metrics.addMetric(MetricNames.messagesReceived, MetricUnit.Count, 1);
 */
export function createMetrics(service: MetricsService): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_METRICS_NAMESPACE,
    serviceName: service,
    functionName: service,
    logger: quietLogger,
  });
}

/**
 * Tracing (X-Ray through Powertools) is on only inside a Lambda function and only when
 * POWERTOOLS_TRACE_ENABLED is not `false`: the CDK app sets it from `monitoring.tracing`; local mode,
 * tests and the Fargate task (no X-Ray daemon there) never trace. Off, the tracer is not even imported:
 * the X-Ray SDK would add its import time to every cold start for nothing.
 */
export const tracingEnabled = (env: NodeJS.ProcessEnv = process.env): boolean =>
  (env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda') && env.POWERTOOLS_TRACE_ENABLED !== 'false';

const tracing = tracingEnabled()
  ? await Promise.all([
      import('@aws-lambda-powertools/tracer'),
      import('@aws-lambda-powertools/tracer/middleware'),
    ])
  : undefined;

/** The process's tracer, or undefined while tracing is off. */
export const tracer: Tracer | undefined = tracing && new tracing[0].Tracer();

/**
 * Records an AWS SDK v3 client's calls as trace subsegments; returns the client as it is while tracing
 * is off.
 * @example const lambda = traced(new LambdaClient({}));
 */
export function traced<T>(client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

export interface ObserveOptions {
  /**
   * Whose `ColdStart` metric this function's cold starts count in: the agent's own (the one that takes
   * seconds), or the one all small handlers share. @default 'handlers'
   */
  coldStartAs?: 'agent' | 'handlers';
  /** Further Metrics instances whose stored metrics are flushed after each invocation. @default none */
  metrics?: Metrics[];
}

/**
 * Adds tracing and metrics to a middy handler: a trace segment per invocation (its response is never
 * recorded: it can hold message text), the cold-start metric, and a flush of the stored metrics after
 * each invocation (or error).
 * @example export const handler = observe(middy().handler(fn));
 */
export function observe<E, R, C extends Context>(
  handler: MiddyfiedHandler<E, R, Error, C>,
  options: ObserveOptions = {},
): MiddyfiedHandler<E, R, Error, C> {
  if (tracing && tracer) handler.use(tracing[1].captureLambdaHandler(tracer, { captureResponse: false }));
  handler.use(logMetrics(createMetrics(options.coldStartAs ?? 'handlers'), { captureColdStartMetric: true }));
  if (options.metrics?.length) handler.use(logMetrics(options.metrics));
  return handler;
}
