// How OpenClaw's tool plugin reaches our code for the turn that is running.
//
// OpenClaw does not import a plugin from where it lies: it copies the plugin folder into the state dir
// (`<state>/tmp/plugin-captures/…/node_modules/<name>/`, measured on openclaw 2026.9.6) and imports the
// copy, so the plugin can neither import our modules by relative path nor share their module instances.
// The one thing both sides share is the process, hence a `globalThis` entry under a registered symbol.
//
// The turn's identity travels in an AsyncLocalStorage entered around `adapter.runTurn()`, not in a
// process-wide "current turn" variable: embedded turns are serialised per process today, but an aborted
// turn may keep running (for up to 10 s) while the next one starts, and a tool call of the old run must
// not act for the new run's user. OpenClaw runs tools inside the async chain of `runEmbeddedAgent`, so
// the store reaches them (measured); a call outside any turn finds no store and is refused.
import { AsyncLocalStorage } from 'node:async_hooks';

/** A tool as the plugin registers it with OpenClaw: a JSON-schema `parameters` object. */
export interface BridgedToolDefinition {
  name: string;
  label: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** What a bridged tool call returns: text for the model, or a refusal the model sees as a tool error. */
export interface BridgedToolResult {
  ok: boolean;
  text: string;
  details?: Record<string, unknown>;
}

/** Tools a host module offers through the bridge, for the turn in `turn`. */
export interface BridgedToolSet<Turn> {
  definitions: BridgedToolDefinition[];
  call(turn: Turn, name: string, params: unknown): Promise<BridgedToolResult>;
}

/** The shape under {@link AGENT_TOOL_BRIDGE_KEY}; agent/tools/schedule-plugin/index.ts reads it. */
export interface AgentToolBridge {
  readonly version: 1;
  definitions(): BridgedToolDefinition[];
  call(name: string, params: unknown): Promise<BridgedToolResult>;
}

/** The registered symbol the plugin looks up on `globalThis`. */
export const AGENT_TOOL_BRIDGE_KEY = Symbol.for('serverless-openclaw.agent-tool-bridge');

interface BridgeState {
  turns: AsyncLocalStorage<unknown>;
  tools: BridgedToolSet<unknown> | undefined;
}

const STATE_KEY = Symbol.for('serverless-openclaw.agent-tool-bridge.state');

/** One state per process, even when this module is loaded twice (test runners do that). */
function state(): BridgeState {
  const global = globalThis as Record<symbol, unknown>;
  global[STATE_KEY] ??= { turns: new AsyncLocalStorage<unknown>(), tools: undefined } satisfies BridgeState;
  return global[STATE_KEY] as BridgeState;
}

/**
 * Offers `tools` to the plugin (replacing any set offered before) and installs the bridge. Call once at
 * start-up; the turn's data comes from {@link runWithToolTurn}.
 */
export function installToolBridge<Turn>(tools: BridgedToolSet<Turn>): void {
  state().tools = tools as BridgedToolSet<unknown>;
  const bridge: AgentToolBridge = {
    version: 1,
    definitions: () => state().tools?.definitions ?? [],
    call: async (name, params) => {
      const { turns, tools: current } = state();
      const turn = turns.getStore();
      if (!current || turn === undefined) {
        return { ok: false, text: 'This tool is not available outside a chat turn.' };
      }
      return current.call(turn, name, params);
    },
  };
  (globalThis as Record<symbol, unknown>)[AGENT_TOOL_BRIDGE_KEY] = bridge;
}

/** Runs `fn` (an OpenClaw turn) so that the bridged tools act for `turn`. */
export function runWithToolTurn<Turn, T>(turn: Turn, fn: () => Promise<T>): Promise<T> {
  return state().turns.run(turn, fn);
}
