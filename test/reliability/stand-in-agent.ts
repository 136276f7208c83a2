import type {
  OpenClawAdapter,
  OpenClawTurnRequest,
  OpenClawTurnResult,
} from '../../agent/openclaw-adapter.ts';

export interface StandInAgentOptions {
  /** Time a turn takes, split over two streamed pieces. @default 20 */
  turnMs?: number;
  /** Called as each turn starts: a fault test can fail or stall chosen turns here. */
  onTurn?: (req: OpenClawTurnRequest) => void | Promise<void>;
}

/**
 * A stand-in for OpenClaw at the adapter seam the turn runner uses (`loadAdapter`): everything around the
 * turn is real (session lock, S3 state save/restore, turn records, bus, consumers). Its reply quotes the
 * prompt, so a test can tell which message an answer belongs to.
 */
export function standInAgent(
  options: StandInAgentOptions = {},
): OpenClawAdapter & { turns: number; prompts: string[] } {
  const turnMs = options.turnMs ?? 20;
  const agent = {
    mode: 'embedded' as const,
    version: 'stand-in',
    turns: 0,
    /** Every turn's prompt, in the order the turns started. */
    prompts: [] as string[],
    async runTurn(req: OpenClawTurnRequest): Promise<OpenClawTurnResult> {
      agent.turns++;
      agent.prompts.push(req.prompt);
      await options.onTurn?.(req);
      const text = `Answer to: ${req.prompt}`;
      const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      await wait(turnMs / 2);
      req.onPartialText?.(text.slice(0, Math.ceil(text.length / 2)));
      await wait(turnMs / 2);
      req.onPartialText?.(text);
      return { text, isError: false, aborted: false, settled: true, stopReason: 'stop' };
    },
  };
  return agent;
}
