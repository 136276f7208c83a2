import { generateKeyPairSync } from 'node:crypto';
import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signInteraction } from '../fixtures/fake-discord-api.ts';
import { slackSignature } from '../fixtures/fake-slack-api.ts';
import { signIn, signWithForeignKey } from '../fixtures/local-auth.ts';
import { byScale, recordCounts } from './counts.ts';
import { type Attempt, type FuzzTally, newTally, tryInput } from './fuzz-runner.ts';
import { type ReliabilityStack, startReliabilityStack } from './harness.ts';
import { contentType, hostileBody, hostileString, jsonText, prototypeIsClean } from './hostile.ts';
import { standInAgent } from './stand-in-agent.ts';

// Every HTTP ingress of the local stack (the same handlers as on AWS, behind the same API Gateway v2
// event builder): the Telegram, Discord and Slack webhooks and the management REST API.
const RUNS = byScale({ ci: 60, full: 400 });
const TELEGRAM_SECRET = 'fuzz-telegram-secret_0123456789';
const SLACK_SECRET = 'fuzz-slack-signing-secret-0123456789';
const discordKeys = (() => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    privateKey,
    publicKeyHex: publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex'),
  };
})();
const foreignDiscordKey = generateKeyPairSync('ed25519').privateKey;

const tallies = new Map<string, FuzzTally>();
const tally = (name: string) => tallies.get(name) ?? tallies.set(name, newTally()).get(name)!;

let rs: ReliabilityStack;
let idToken: string;

/**
 * One request on its own connection (no keep-alive), so what one hostile request does to a connection
 * (a refused huge body) cannot be blamed on the next one.
 */
function post(
  path: string,
  body: string,
  headers: Record<string, string>,
  method = 'POST',
): Promise<Attempt> {
  const payload = method === 'GET' || method === 'DELETE' ? '' : body;
  return new Promise((resolve, reject) => {
    const req = request(
      `${rs.stack.url}${path}`,
      {
        method,
        agent: false,
        headers: {
          ...Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== '')),
          connection: 'close',
          'content-length': String(Buffer.byteLength(payload)),
        },
      },
      (res) => {
        res.resume();
        res.once('end', () =>
          resolve({ status: res.statusCode ?? 0, describe: `${method} ${path} ${body.slice(0, 120)}` }),
        );
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}

/** Header values must be bytes: anything else is sent percent-encoded (lone surrogates made whole first). */
const wellFormed = (value: string) => value.replace(/\p{Cs}/gu, '\ufffd');
const headerValue = (value: string) => encodeURIComponent(wellFormed(value));
const nowSeconds = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  rs = await startReliabilityStack({
    loadAdapter: async () => standInAgent(),
    allowedUsers: ['telegram:42', 'discord:1200000000000000001', 'slack:UALICE'],
    env: {
      TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
      TELEGRAM_BOT_TOKEN: '123:fuzz',
      // Replies to chat platforms go nowhere: port 9 on loopback refuses at once.
      TELEGRAM_API_ROOT: 'http://127.0.0.1:9',
      DISCORD_PUBLIC_KEY: discordKeys.publicKeyHex,
      DISCORD_BOT_TOKEN: 'fuzz',
      DISCORD_API_BASE: 'http://127.0.0.1:9',
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_BOT_TOKEN: 'xoxb-fuzz',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
    },
  });
  ({ idToken } = await signIn(rs.stack.url, 'local'));
});

afterAll(async () => {
  for (const [name, t] of tallies) {
    recordCounts(
      `fuzz ${name}`,
      { inputsTried: t.inputs, crashes: t.crashes, lost: t.leaked },
      `${t.refused} refused, ${t.accepted} accepted`,
    );
  }
  await rs?.close();
});

describe('the Telegram webhook under hostile input', () => {
  it('refuses a missing or wrong secret token with a 4xx and publishes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.option(hostileString.filter((s) => s !== TELEGRAM_SECRET && !/[\r\n\0]/.test(s))),
        hostileBody,
        contentType,
        async (secret, body, type) =>
          tryInput(tally('telegram'), rs.publishes, true, () =>
            post('/webhooks/telegram', body, {
              'content-type': type,
              ...(secret === null ? {} : { 'x-telegram-bot-api-secret-token': headerValue(secret) }),
            }),
          ),
      ),
      { numRuns: RUNS },
    );
  });

  it('with the right token, answers any body with a 2xx or 4xx, never a 5xx', async () => {
    const update = fc.oneof(
      hostileBody,
      fc
        .record(
          {
            update_id: fc.integer(),
            message: fc.record(
              {
                text: hostileString,
                from: fc.record({ id: fc.constantFrom(42, 43, -1) }),
                chat: fc.record({ id: fc.integer(), type: fc.constantFrom('private', 'group', 'x') }),
                message_id: fc.integer(),
                date: fc.integer(),
              },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        )
        .map((u) => JSON.stringify(u)),
    );
    await fc.assert(
      fc.asyncProperty(update, contentType, async (body, type) =>
        tryInput(tally('telegram'), rs.publishes, false, () =>
          post('/webhooks/telegram', body, {
            'content-type': type,
            'X-Telegram-Bot-Api-Secret-Token': TELEGRAM_SECRET,
          }),
        ),
      ),
      { numRuns: RUNS },
    );
  });
});

describe('the Discord interactions endpoint under hostile input', () => {
  const headers = (signature: string, timestamp: string, type: string) => ({
    'content-type': type,
    'x-signature-ed25519': signature,
    'x-signature-timestamp': timestamp,
  });

  it('refuses bad, foreign, absent signatures and stale timestamps with a 4xx and publishes nothing', async () => {
    const forged = fc.oneof(
      hostileString.map((s) => ({ sig: () => headerValue(s), ts: String(nowSeconds()) })),
      fc.constant({ sig: () => '', ts: String(nowSeconds()) }),
      // A real signature by a key that is not the application's.
      fc.constant({
        sig: (ts: string, body: string) => signInteraction(foreignDiscordKey, ts, body),
        ts: String(nowSeconds()),
      }),
      // The right key, but a timestamp far off (a replay).
      fc.integer({ min: 301, max: 10_000_000 }).map((age) => ({
        sig: (ts: string, body: string) => signInteraction(discordKeys.privateKey, ts, body),
        ts: String(nowSeconds() - age),
      })),
    );
    await fc.assert(
      fc.asyncProperty(forged, hostileBody, contentType, async ({ sig, ts }, body, type) =>
        tryInput(tally('discord'), rs.publishes, true, () =>
          post('/webhooks/discord', body, headers(sig(ts, body), ts, type)),
        ),
      ),
      { numRuns: RUNS },
    );
  });

  it('with a valid signature, answers any body with a 2xx or 4xx, never a 5xx', async () => {
    const interaction = fc.oneof(
      jsonText,
      fc.constant(JSON.stringify({ id: '1', application_id: '1', type: 1, token: 't', version: 1 })),
      fc
        .record(
          {
            type: fc.constantFrom(1, 2, 3, 4, 5, 99, -1, '2'),
            id: fc.string(),
            application_id: fc.string(),
            token: hostileString,
            member: fc.record({ user: fc.record({ id: fc.constantFrom('1200000000000000001', '1', '') }) }),
            data: fc.record(
              {
                name: fc.constantFrom('ask', 'schedule', 'x'),
                type: fc.integer(),
                options: fc.array(fc.record({ name: fc.string(), type: fc.integer(), value: hostileString })),
              },
              { requiredKeys: [] },
            ),
          },
          { requiredKeys: [] },
        )
        .map((i) => JSON.stringify(i)),
    );
    await fc.assert(
      fc.asyncProperty(interaction, async (body) => {
        const ts = String(nowSeconds());
        return tryInput(tally('discord'), rs.publishes, false, () =>
          post(
            '/webhooks/discord',
            body,
            headers(signInteraction(discordKeys.privateKey, ts, body), ts, 'application/json'),
          ),
        );
      }),
      { numRuns: RUNS },
    );
  });
});

describe('the Slack events and slash command endpoint under hostile input', () => {
  it('refuses bad and absent signatures and stale timestamps with a 4xx and publishes nothing', async () => {
    const forged = fc.oneof(
      hostileString.map((s) => ({ sig: () => headerValue(s), ts: String(nowSeconds()) })),
      fc.constant({
        sig: (ts: string, body: string) => slackSignature('another-apps-secret', ts, body),
        ts: String(nowSeconds()),
      }),
      fc.integer({ min: 301, max: 10_000_000 }).map((age) => ({
        sig: (ts: string, body: string) => slackSignature(SLACK_SECRET, ts, body),
        ts: String(nowSeconds() - age),
      })),
      hostileString.map((ts) => ({
        sig: (t: string, body: string) => slackSignature(SLACK_SECRET, t, body),
        ts: headerValue(ts),
      })),
    );
    await fc.assert(
      fc.asyncProperty(forged, hostileBody, contentType, async ({ sig, ts }, body, type) =>
        tryInput(tally('slack'), rs.publishes, true, () =>
          post('/webhooks/slack', body, {
            'content-type': type,
            'x-slack-request-timestamp': ts,
            'x-slack-signature': sig(ts, body),
          }),
        ),
      ),
      { numRuns: RUNS },
    );
  });

  it('with a valid signature, answers any event or slash command with a 2xx or 4xx, never a 5xx', async () => {
    const event = fc.record(
      {
        type: fc.constantFrom('event_callback', 'url_verification', 'app_rate_limited', 'x'),
        challenge: hostileString,
        event_id: fc.string(),
        event: fc.record(
          {
            type: fc.constantFrom('app_mention', 'message', 'x'),
            user: fc.constantFrom('UALICE', 'UEVE'),
            text: hostileString,
            channel: fc.string(),
            ts: fc.string(),
            bot_id: fc.string(),
            subtype: fc.string(),
            channel_type: fc.constantFrom('im', 'channel'),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    );
    const command = fc.record(
      {
        command: fc.constantFrom('/openclaw', '/other', ''),
        text: hostileString,
        user_id: fc.constantFrom('UALICE', 'UEVE', ''),
        channel_id: fc.string(),
        response_url: fc.constantFrom(
          'https://hooks.slack.com/commands/T/1/a',
          'http://127.0.0.1:9/x',
          'javascript:alert(1)',
        ),
        trigger_id: fc.string(),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      event.map((e) => ({ body: JSON.stringify(e), type: 'application/json' })),
      command.map((c) => ({
        body: new URLSearchParams(c).toString(),
        type: 'application/x-www-form-urlencoded',
      })),
      fc.tuple(hostileBody, contentType).map(([b, type]) => ({ body: b, type })),
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ body: raw, type }) => {
        const ts = String(nowSeconds());
        return tryInput(tally('slack'), rs.publishes, false, () =>
          post('/webhooks/slack', raw, {
            'content-type': type,
            'x-slack-request-timestamp': ts,
            'x-slack-signature': slackSignature(SLACK_SECRET, ts, raw),
          }),
        );
      }),
      { numRuns: RUNS },
    );
  });
});

describe('the management REST API under hostile input', () => {
  const routes = [
    ['GET', '/v1/me'],
    ['POST', '/v1/link-codes'],
    ['GET', '/v1/schedules'],
    ['POST', '/v1/schedules'],
    ['GET', '/v1/schedules/{id}'],
    ['PATCH', '/v1/schedules/{id}'],
    ['DELETE', '/v1/schedules/{id}'],
    ['POST', '/v1/schedules/{id}/pause'],
    ['POST', '/v1/schedules/{id}/resume'],
    ['GET', '/v1/skills'],
    ['POST', '/v1/skills'],
    ['PATCH', '/v1/skills/{id}'],
    ['DELETE', '/v1/skills/{id}'],
    ['GET', '/v1/settings'],
    ['PUT', '/v1/settings'],
    ['GET', '/v1/channels'],
    ['DELETE', '/v1/channels/{id}/{id}'],
    ['GET', '/v1/conversations'],
    ['GET', '/v1/conversations/{id}'],
    ['DELETE', '/v1/conversations/{id}'],
  ] as const;
  const request = fc.record({
    route: fc.constantFrom(...routes),
    id: fc.oneof(
      hostileString.filter((s) => s.length > 0),
      fc.constantFrom('job-1', 'telegram', '..', '%2e%2e', 'x'.repeat(2000)),
    ),
    query: fc.option(
      fc.dictionary(fc.constantFrom('limit', 'cursor', 'nextToken', '__proto__'), hostileString, {
        maxKeys: 3,
      }),
    ),
    body: hostileBody,
    type: contentType,
  });
  const pathOf = (path: string, id: string, query: Record<string, string> | null) => {
    const encoded = encodeURIComponent(wellFormed(id));
    const search = query ? `?${new URLSearchParams(query)}` : '';
    return `${path.replaceAll('{id}', encoded)}${search}`;
  };

  it('refuses missing, malformed and foreign tokens with 401 and publishes nothing', async () => {
    const token = fc.oneof(
      fc.constant(undefined),
      hostileString.map(headerValue),
      fc.constant(signWithForeignKey(idToken)),
      fc.constant(signWithForeignKey(idToken, { sub: 'local-alice' })),
      fc.constant(`${idToken.slice(0, -4)}AAAA`),
    );
    await fc.assert(
      fc.asyncProperty(request, token, async ({ route, id, query, body, type }, bearerToken) => {
        // A 4xx (401, or 404 where the client normalised a `..` path away), and nothing published.
        await tryInput(tally('rest api'), rs.publishes, true, () =>
          post(
            pathOf(route[1], id, query),
            body,
            {
              'content-type': type,
              ...(bearerToken === undefined ? {} : { authorization: `Bearer ${bearerToken}` }),
            },
            route[0],
          ),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('signed in, answers any request with a 2xx or 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ route, id, query, body, type }) =>
        tryInput(tally('rest api'), rs.publishes, false, () =>
          post(
            pathOf(route[1], id, query),
            body,
            { 'content-type': type, authorization: `Bearer ${idToken}` },
            route[0],
          ),
        ),
      ),
      { numRuns: RUNS },
    );
    expect(prototypeIsClean()).toBe(true);
  });
});
