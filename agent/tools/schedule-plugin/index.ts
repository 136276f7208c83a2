// OpenClaw tool plugin: the agent's scheduled-job tools. A thin shim on purpose.
//
// OpenClaw imports a copy of this folder from its state dir, so nothing here may import our code: the
// definitions and the work come from the bridge that agent/tools/tool-bridge.ts puts on `globalThis`
// (agent/tools/schedule-tools.ts implements the tools). Where no bridge is installed (the CLI fallback
// runs OpenClaw in a child process) the plugin registers no tools, so the model is not offered tools
// that cannot work. Keep the tool names in openclaw.plugin.json `contracts.tools` in step.

interface BridgedToolDefinition {
  name: string;
  label: string;
  description: string;
  parameters: Record<string, unknown>;
}

interface AgentToolBridge {
  version: 1;
  definitions(): BridgedToolDefinition[];
  call(
    name: string,
    params: unknown,
  ): Promise<{ ok: boolean; text: string; details?: Record<string, unknown> }>;
}

/** The part of OpenClaw's plugin API this plugin uses (openclaw 2026.9.6, `api.registerTool`). */
interface PluginApi {
  registerTool(tool: Record<string, unknown>, options: { name: string }): void;
}

const BRIDGE_KEY = Symbol.for('serverless-openclaw.agent-tool-bridge');
const PLUGIN_TOOLS = new Set([
  'schedule_create',
  'schedule_list',
  'schedule_delete',
  'schedule_pause',
  'schedule_resume',
]);

function bridge(): AgentToolBridge | undefined {
  const found = (globalThis as Record<symbol, unknown>)[BRIDGE_KEY] as AgentToolBridge | undefined;
  return found?.version === 1 ? found : undefined;
}

export default {
  id: 'serverless-openclaw-schedule',
  name: 'Scheduled jobs',
  description: "Lets the agent create, list, pause, resume and delete the user's scheduled jobs.",
  register(api: PluginApi) {
    for (const definition of bridge()?.definitions() ?? []) {
      if (!PLUGIN_TOOLS.has(definition.name)) continue;
      api.registerTool(
        {
          ...definition,
          // OpenClaw's core tool signature: the call id first, then the arguments.
          async execute(_toolCallId: string, params: unknown) {
            const current = bridge();
            if (!current) throw new Error('Scheduling is not available in this runtime.');
            const result = await current.call(definition.name, params);
            // A throw is how OpenClaw tells the model a tool call failed; the text says why.
            if (!result.ok) throw new Error(result.text);
            return { content: [{ type: 'text', text: result.text }], details: result.details ?? {} };
          },
        },
        { name: definition.name },
      );
    }
  },
};
