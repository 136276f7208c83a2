/**
 * An estimate of what a turn's tokens cost at the LLM vendors' list prices, for the dashboard's
 * "Estimated LLM cost" line. It is not a bill: prices change, cached-input and batch discounts are not
 * modelled, and a model missing here (a local Ollama model, a custom endpoint) is priced at nothing.
 * USD per million tokens, list prices checked 2026-12; the longest matching prefix of the model id wins.
 */
export interface TokenPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}

/** Model id prefix -> price. Keep prefixes lower-case; more specific ids before shorter ones is not needed. */
export const LLM_PRICES: Readonly<Record<string, TokenPrice>> = {
  'claude-opus-4-5': { inputPerMillion: 5, outputPerMillion: 25 },
  'claude-opus-4': { inputPerMillion: 15, outputPerMillion: 75 },
  'claude-sonnet-4': { inputPerMillion: 3, outputPerMillion: 15 },
  'claude-3-7-sonnet': { inputPerMillion: 3, outputPerMillion: 15 },
  'claude-3-5-sonnet': { inputPerMillion: 3, outputPerMillion: 15 },
  'claude-haiku-4': { inputPerMillion: 1, outputPerMillion: 5 },
  'claude-3-5-haiku': { inputPerMillion: 0.8, outputPerMillion: 4 },
  'claude-3-haiku': { inputPerMillion: 0.25, outputPerMillion: 1.25 },
  'gpt-5-nano': { inputPerMillion: 0.05, outputPerMillion: 0.4 },
  'gpt-5-mini': { inputPerMillion: 0.25, outputPerMillion: 2 },
  'gpt-5': { inputPerMillion: 1.25, outputPerMillion: 10 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'o4-mini': { inputPerMillion: 1.1, outputPerMillion: 4.4 },
  o3: { inputPerMillion: 2, outputPerMillion: 8 },
};

/** The price of a model id (`claude-sonnet-4-5`, `anthropic/claude-sonnet-4-5`), or undefined when unknown. */
export function priceOf(model: string): TokenPrice | undefined {
  const id = model.toLowerCase().split('/').pop() ?? '';
  let best: string | undefined;
  for (const prefix of Object.keys(LLM_PRICES))
    if (id.startsWith(prefix) && prefix.length > (best?.length ?? 0)) best = prefix;
  return best ? LLM_PRICES[best] : undefined;
}

/**
 * Estimated USD for a turn's tokens; undefined when the model has no price here.
 * @example estimateLlmCostUsd('claude-sonnet-4-5', 1_000_000, 0) // 3
 */
export function estimateLlmCostUsd(
  model: string,
  inputTokens: number,
  outputTokens: number,
): number | undefined {
  const price = priceOf(model);
  if (!price) return undefined;
  return (inputTokens * price.inputPerMillion + outputTokens * price.outputPerMillion) / 1_000_000;
}
