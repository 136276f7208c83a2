import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SSMProvider } from '@aws-lambda-powertools/parameters/ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../infra/local/aws-config.ts';
import { createSecretReader, requireSecret } from './secrets.ts';

describe('secrets from SSM SecureString parameters, or the environment locally', () => {
  const requests: { Name: string; WithDecryption: boolean }[] = [];
  const parameters: Record<string, string> = {
    '/serverless-openclaw/prod/ANTHROPIC_API_KEY': 'sk-ant-secret',
  };
  // A loopback fake of SSM's GetParameter (AWS JSON 1.1), since SSM has no local stand-in.
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { Name: string; WithDecryption: boolean };
    requests.push(body);
    const value = parameters[body.Name];
    res.writeHead(value ? 200 : 400, {
      'content-type': 'application/x-amz-json-1.1',
      ...(value ? {} : { 'x-amzn-errortype': 'ParameterNotFound' }),
    });
    res.end(
      JSON.stringify(value ? { Parameter: { Name: body.Name, Type: 'SecureString', Value: value } } : {}),
    );
  });
  let provider: SSMProvider;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    provider = new SSMProvider({ clientConfig: { ...localClientConfig(endpoint), maxAttempts: 1 } });
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('reads the parameter under the prefix, decrypted, and reuses it while fresh', async () => {
    const resolve = createSecretReader({ prefix: '/serverless-openclaw/prod', provider });
    expect(await resolve('ANTHROPIC_API_KEY')).toBe('sk-ant-secret');
    expect(await resolve('ANTHROPIC_API_KEY')).toBe('sk-ant-secret');
    expect(requests).toEqual([{ Name: '/serverless-openclaw/prod/ANTHROPIC_API_KEY', WithDecryption: true }]);
  });

  it('resolves a missing parameter to undefined instead of failing the turn', async () => {
    const resolve = createSecretReader({ prefix: '/serverless-openclaw/prod/', provider });
    expect(await resolve('OPENAI_API_KEY')).toBeUndefined();
  });

  it('reads the environment when there is no prefix, and names where a required secret was looked for', async () => {
    const env = { TELEGRAM_BOT_TOKEN: 'env-token' };
    const read = createSecretReader({ env });
    expect(await read('TELEGRAM_BOT_TOKEN')).toBe('env-token');
    await expect(requireSecret(read, 'SLACK_BOT_TOKEN', env)).rejects.toThrow(
      'SLACK_BOT_TOKEN is not set (looked in the environment)',
    );
  });
});
