import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { captureOutput, emfLines } from '../test/fixtures/emf.ts';
import { createMetrics, MetricNames, MetricUnit, observe, traced, tracingEnabled } from './observability.ts';

describe('observability', () => {
  it('traces only inside Lambda and only unless POWERTOOLS_TRACE_ENABLED is false', () => {
    expect(tracingEnabled({})).toBe(false);
    expect(tracingEnabled({ AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE' })).toBe(false);
    expect(tracingEnabled({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' })).toBe(true);
    expect(
      tracingEnabled({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', POWERTOOLS_TRACE_ENABLED: 'false' }),
    ).toBe(false);
    // Off here: a client is returned as it is.
    const client = { send: () => undefined };
    expect(traced(client)).toBe(client);
  });

  it('gives every small handler the same cold-start metric, once per execution environment', async () => {
    // Prepare
    Object.assign(process.env, {
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_METRICS_NAMESPACE: 'ServerlessOpenClaw/test',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    });
    const extra = createMetrics('runtime-selector');
    const first = observe(middy<unknown, string>().handler(async () => 'a'));
    const second = observe(
      middy<unknown, string>().handler(async () => {
        extra.addMetric(MetricNames.messagesReceived, MetricUnit.Count, 1);
        return 'b';
      }),
      { metrics: [extra] },
    );
    const output = captureOutput();

    // Act
    try {
      await first({}, { functionName: 'fn-one' } as Context);
      await first({}, { functionName: 'fn-one' } as Context);
      await second({}, { functionName: 'fn-two' } as Context);
    } finally {
      output.restore();
    }

    // Assess: two cold starts (one per handler) in the one shared metric, the extra metric flushed
    const lines = emfLines(output.text());
    const coldStarts = lines.filter((line) => 'ColdStart' in line);
    expect(coldStarts).toHaveLength(2);
    for (const line of coldStarts) {
      expect(line).toMatchObject({ service: 'handlers', function_name: 'handlers', ColdStart: 1 });
      expect(line._aws.CloudWatchMetrics[0]?.Namespace).toBe('ServerlessOpenClaw/test');
    }
    expect(lines.filter((line) => 'MessagesReceived' in line)).toHaveLength(1);
    // Handlers without metrics of their own print no "No application metrics" warning per call.
    expect(output.text()).not.toContain('No application metrics');
  });
});
