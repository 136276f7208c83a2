import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { captureOutput, emfLines } from '../../test/fixtures/emf.ts';
import { estimateLlmCostUsd, priceOf } from './llm-prices.ts';
import { recordReply } from './turn-metrics.ts';

describe('the LLM price table', () => {
  it('prices a model by the longest matching prefix, provider prefixes ignored', () => {
    expect(priceOf('claude-opus-4-5-20251101')?.inputPerMillion).toBe(5);
    expect(priceOf('claude-opus-4-1')?.inputPerMillion).toBe(15);
    expect(priceOf('openai/gpt-4o-mini')?.outputPerMillion).toBe(0.6);
    expect(priceOf('gpt-4o-2024-08-06')?.outputPerMillion).toBe(10);
    expect(estimateLlmCostUsd('claude-sonnet-4-5', 1_000_000, 100_000)).toBeCloseTo(4.5, 10);
  });

  it('prices nothing it does not know (a local model) rather than guessing', () => {
    expect(priceOf('llama3.2')).toBeUndefined();
    expect(estimateLlmCostUsd('qwen2.5:7b', 1000, 1000)).toBeUndefined();
  });
});

describe('recordReply', () => {
  const metrics = () =>
    new Metrics({ namespace: 'ServerlessOpenClaw/test', serviceName: 'agent', logger: console });
  const run = (record: (m: Metrics) => void) => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const m = metrics();
    const output = captureOutput();
    try {
      record(m);
    } finally {
      output.restore();
    }
    return emfLines(output.text());
  };

  it('counts an error reply and its latency, and no tokens or cost when there were none', () => {
    const [line, ...rest] = run((m) =>
      recordReply(
        m,
        { receivedAt: new Date(10_000).toISOString() },
        { status: 'error', error: { code: 'LLM_ERROR', message: 'x' } },
        'gpt-4o',
        12_500,
      ),
    );
    expect(rest).toHaveLength(0);
    expect(line).toMatchObject({ service: 'agent', ReplyLatency: 2500, TurnErrors: 1 });
    expect(line).not.toHaveProperty('InputTokens');
    expect(line).not.toHaveProperty('EstimatedLlmCostUsd');
  });

  it('does not count a stop the user asked for as an error', () => {
    const [line] = run((m) =>
      recordReply(
        m,
        { receivedAt: new Date(0).toISOString() },
        { status: 'aborted', error: { code: 'STOPPED', message: 'stopped' } },
        undefined,
        1,
      ),
    );
    expect(line).not.toHaveProperty('TurnErrors');
  });

  it('records tokens without a cost for a model the table does not price', () => {
    const [line] = run((m) =>
      recordReply(
        m,
        { receivedAt: new Date(0).toISOString() },
        { status: 'ok', usage: { inputTokens: 100, outputTokens: 20 } },
        'llama3.2',
        5,
      ),
    );
    expect(line).toMatchObject({ InputTokens: 100, OutputTokens: 20 });
    expect(line).not.toHaveProperty('EstimatedLlmCostUsd');
  });
});
