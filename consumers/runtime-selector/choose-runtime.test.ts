import { describe, expect, it } from 'vitest';
import { chooseRuntime } from './choose-runtime.ts';

describe('chooseRuntime', () => {
  it.each([
    ['lambda', 'open https://example.com and take a screenshot', true, 'lambda'],
    ['fargate', 'hello', false, 'fargate'],
    ['auto', 'hello', false, 'lambda'],
    ['auto', 'hello', true, 'fargate'],
    ['auto', '/heavy summarise my inbox', false, 'fargate'],
    ['auto', 'please open the page https://example.com and read the title', false, 'fargate'],
    ['auto', 'take a screenshot of my dashboard', false, 'fargate'],
    ['auto', 'what is heavy water?', false, 'lambda'],
  ] as const)('%s + "%s" (task active: %s) -> %s', (preference, text, taskActive, runtime) => {
    const choice = chooseRuntime({ preference, text, taskActive });
    expect(choice.runtime).toBe(runtime);
    expect(choice.reason.length).toBeGreaterThan(5);
  });
});
