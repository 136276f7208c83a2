import { type MetricName, MetricNames, MetricUnit } from '../../bus/observability.ts';
import type { MessageReceived, ReplyCompleted } from '../../schemas/index.ts';
import { estimateLlmCostUsd } from './llm-prices.ts';

/** What the turn metrics need of a Powertools `Metrics`. */
export interface MetricsSink {
  addMetric(name: MetricName, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
  publishStoredMetrics(): unknown;
}

/** Reply codes that are not errors of ours: the user pressed stop. */
const NOT_AN_ERROR = new Set(['STOPPED']);

/**
 * Records one answered message: reply latency (message received -> reply completed, whatever the
 * runtime), an error count when the reply is an error, and the LLM tokens with their estimated cost.
 * Published at once, so a long-lived Fargate task does not hold them until it exits.
 * Only numbers leave here: never text, ids or the user.
 */
export function recordReply(
  metrics: MetricsSink,
  message: Pick<MessageReceived, 'receivedAt'>,
  reply: Pick<ReplyCompleted, 'status' | 'error' | 'usage'>,
  model: string | undefined,
  now = Date.now(),
): void {
  const receivedAt = Date.parse(message.receivedAt);
  if (Number.isFinite(receivedAt))
    metrics.addMetric(MetricNames.replyLatency, MetricUnit.Milliseconds, Math.max(0, now - receivedAt));
  if (reply.status !== 'ok' && !NOT_AN_ERROR.has(reply.error?.code ?? ''))
    metrics.addMetric(MetricNames.turnErrors, MetricUnit.Count, 1);
  const input = reply.usage?.inputTokens ?? 0;
  const output = reply.usage?.outputTokens ?? 0;
  if (input > 0) metrics.addMetric(MetricNames.inputTokens, MetricUnit.Count, input);
  if (output > 0) metrics.addMetric(MetricNames.outputTokens, MetricUnit.Count, output);
  const cost = model && input + output > 0 ? estimateLlmCostUsd(model, input, output) : undefined;
  if (cost !== undefined) metrics.addMetric(MetricNames.estimatedLlmCostUsd, MetricUnit.NoUnit, cost);
  metrics.publishStoredMetrics();
}
