import { describe, expect, it } from 'vitest';
import { normalizeAppConfig } from './app-config.ts';
import { renderAppPage } from './page.ts';

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

describe('renderAppPage', () => {
  it('inlines the config as inert JSON that cannot close its script element', () => {
    const page = renderAppPage({
      scriptUrl: '/openclaw-chat.js',
      config: { wsUrl: 'ws://h/ws', title: '</script><script>alert(1)</script>' },
    });
    const json = /<script type="application\/json" id="openclaw-config">(.*?)<\/script>/.exec(page)?.[1];
    expect(JSON.parse(json ?? 'null')).toEqual({
      wsUrl: 'ws://h/ws',
      title: '</script><script>alert(1)</script>',
    });
    expect(page).not.toContain('<script>alert(1)');
    expect(page).toContain('<title>&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>');
    expect(page).toContain('<openclaw-app></openclaw-app>');
  });

  it('leaves the config out when none is given, so the page fetches config.json', () => {
    expect(renderAppPage({ scriptUrl: '/x.js' })).not.toContain('openclaw-config');
  });
});
