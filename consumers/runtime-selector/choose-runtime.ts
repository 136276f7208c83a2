import type { RuntimePreference } from '../../schemas/index.ts';

export type Runtime = 'lambda' | 'fargate';

export interface RuntimeChoice {
  runtime: Runtime;
  /** Why, in words a user can read in their status (and we can read in the logs). */
  reason: string;
}

export interface ChooseRuntimeInput {
  /** The user's setting, else the deployment default. */
  preference: RuntimePreference;
  /** The message text: an explicit `/heavy` or browser work asks for the container. */
  text: string;
  /** Whether the user already has a task starting or running (reusing it costs nothing extra). */
  taskActive: boolean;
}

/** Words that mean the turn will drive a browser, which only the Fargate image has. */
const BROWSER_WORK =
  /\b(browse|browser|open (?:the )?(?:page|site|url)|screenshot|fill (?:in|out) the form|click)\b|https?:\/\//i;

/**
 * Picks where one turn runs. `lambda` and `fargate` are honoured as set. `auto` reuses a task that is
 * already up (its session is warm and it is paid for anyway), sends heavy work — an explicit `/heavy`,
 * or anything that needs the browser — to Fargate, and everything else to Lambda, which costs nothing
 * between turns.
 */
export function chooseRuntime(input: ChooseRuntimeInput): RuntimeChoice {
  if (input.preference === 'lambda') return { runtime: 'lambda', reason: 'your runtime setting is Lambda' };
  if (input.preference === 'fargate')
    return { runtime: 'fargate', reason: 'your runtime setting is Fargate' };
  if (input.taskActive) return { runtime: 'fargate', reason: 'your agent container is already running' };
  if (/^\s*\/heavy\b/i.test(input.text)) return { runtime: 'fargate', reason: 'you asked for /heavy' };
  if (BROWSER_WORK.test(input.text)) return { runtime: 'fargate', reason: 'this looks like browser work' };
  return { runtime: 'lambda', reason: 'a quick turn runs on Lambda' };
}
