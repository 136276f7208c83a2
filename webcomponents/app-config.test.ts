import { describe, expect, it } from 'vitest';
import { normalizeAppConfig } from './app-config.ts';

describe('normalizeAppConfig', () => {
  it('reads the web stack config.json shape', () => {
    expect(
      normalizeAppConfig({
        webSocketUrl: 'wss://ws.example.com/prod',
        httpApiUrl: 'https://api.example.com',
        region: 'eu-west-1',
        userPoolId: 'eu-west-1_abc',
        userPoolClientId: 'client-1',
      }),
    ).toEqual({
      wsUrl: 'wss://ws.example.com/prod',
      apiUrl: 'https://api.example.com',
      auth: { endpoint: 'https://cognito-idp.eu-west-1.amazonaws.com/', clientId: 'client-1' },
    });
  });

  it('reads the local shape and drops what is malformed', () => {
    expect(
      normalizeAppConfig({
        wsUrl: 'ws://127.0.0.1:8787/ws',
        auth: { endpoint: '/auth', clientId: 'local' },
        title: 'Mine',
      }),
    ).toEqual({
      wsUrl: 'ws://127.0.0.1:8787/ws',
      auth: { endpoint: '/auth', clientId: 'local' },
      title: 'Mine',
    });
    expect(normalizeAppConfig({ region: 'x"/evil', userPoolClientId: 'c', wsUrl: 42 })).toEqual({});
    expect(normalizeAppConfig(null)).toEqual({});
  });
});
