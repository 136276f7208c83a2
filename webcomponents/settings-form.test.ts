import { describe, expect, it } from 'vitest';
import { IdleTimeoutMinutesSchema, LLM_PROVIDERS, SettingsUpdateSchema } from '../schemas/index.ts';
import {
  formFromSettings,
  IDLE_TIMEOUT_RANGE,
  PROVIDER_LABELS,
  type SettingsForm,
  settingsUpdateFrom,
} from './settings-form.ts';

const filled: SettingsForm = {
  provider: 'openai',
  model: ' gpt-4.1 ',
  baseUrl: '',
  apiKey: '',
  removeKey: false,
  runtime: 'auto',
  idleTimeoutMinutes: '15',
};

describe('settings form', () => {
  it('offers exactly the providers and idle range of the API schema', () => {
    expect(Object.keys(PROVIDER_LABELS)).toEqual([...LLM_PROVIDERS]);
    expect(IdleTimeoutMinutesSchema.safeParse(IDLE_TIMEOUT_RANGE.min).success).toBe(true);
    expect(IdleTimeoutMinutesSchema.safeParse(IDLE_TIMEOUT_RANGE.max).success).toBe(true);
    expect(IdleTimeoutMinutesSchema.safeParse(IDLE_TIMEOUT_RANGE.max + 1).success).toBe(false);
  });

  it('leaves the key out unless one was typed or removal asked, and the body passes the API schema', () => {
    const keep = settingsUpdateFrom(filled);
    const replace = settingsUpdateFrom({ ...filled, apiKey: 'sk-new' });
    const remove = settingsUpdateFrom({ ...filled, removeKey: true });
    expect(keep).toEqual({
      update: { llm: { provider: 'openai', model: 'gpt-4.1' }, runtime: 'auto', idleTimeoutMinutes: 15 },
    });
    expect(replace).toMatchObject({ update: { llm: { apiKey: 'sk-new' } } });
    expect(remove).toMatchObject({ update: { llm: { apiKey: null } } });
    for (const r of [keep, replace, remove]) {
      expect(SettingsUpdateSchema.safeParse('update' in r ? r.update : r).success).toBe(true);
    }
  });

  it('resets to the deployment default and refuses what the server would refuse', () => {
    expect(settingsUpdateFrom({ ...filled, provider: '', runtime: '', idleTimeoutMinutes: '' })).toEqual({
      update: { llm: null, runtime: null, idleTimeoutMinutes: null },
    });
    expect(settingsUpdateFrom({ ...filled, model: ' ' })).toHaveProperty('error');
    expect(settingsUpdateFrom({ ...filled, provider: 'openai-compatible' })).toHaveProperty('error');
    expect(settingsUpdateFrom({ ...filled, baseUrl: 'javascript:alert(1)' })).toHaveProperty('error');
    expect(settingsUpdateFrom({ ...filled, idleTimeoutMinutes: '0' })).toHaveProperty('error');
    expect(settingsUpdateFrom({ ...filled, idleTimeoutMinutes: '2.5' })).toHaveProperty('error');
    expect(settingsUpdateFrom({ ...filled, provider: 'bedrock', apiKey: 'x' })).toEqual({
      update: { llm: { provider: 'bedrock', model: 'gpt-4.1' }, runtime: 'auto', idleTimeoutMinutes: 15 },
    });
  });

  it('fills the form from the view without any key', () => {
    const form = formFromSettings({
      llm: { provider: 'openai-compatible', model: 'llama3', baseUrl: 'http://h:11434/v1', apiKeySet: true },
      defaultLlm: null,
      runtime: null,
      idleTimeoutMinutes: 30,
    });
    expect(form).toEqual({
      provider: 'openai-compatible',
      model: 'llama3',
      baseUrl: 'http://h:11434/v1',
      apiKey: '',
      removeKey: false,
      runtime: '',
      idleTimeoutMinutes: '30',
    });
  });
});
