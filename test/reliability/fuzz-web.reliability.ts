import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventSources } from '../../schemas/index.ts';
import { signIn, signWithForeignKey, withToken } from '../fixtures/local-auth.ts';
import { connectTestSocket, type TestSocket } from '../fixtures/ws-client.ts';
import { byScale, recordCounts } from './counts.ts';
import { type FuzzTally, newTally, tryInput } from './fuzz-runner.ts';
import { quiet, type ReliabilityStack, startReliabilityStack } from './harness.ts';
import { deepJson, hostileString, jsonText, pollutingObject, prototypeIsClean } from './hostile.ts';
import { standInAgent } from './stand-in-agent.ts';

// The web chat's WebSocket ingress ($connect authorizer, then every frame) and the scheduled-job fire
// events, through the local stack: the same handlers as on AWS.
const RUNS = byScale({ ci: 60, full: 400 });
const tallies = new Map<string, FuzzTally>();
const tally = (name: string) => tallies.get(name) ?? tallies.set(name, newTally()).get(name)!;

let rs: ReliabilityStack;
let idToken: string;

beforeAll(async () => {
  rs = await startReliabilityStack({ loadAdapter: async () => standInAgent() });
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

describe('the WebSocket $connect authorizer under hostile tokens', () => {
  it('refuses absent, malformed, oversized, tampered and foreign tokens with 401', async () => {
    const token = fc.oneof(
      fc.constant(undefined),
      hostileString,
      fc.constant('x'.repeat(20_000)),
      fc.constant(signWithForeignKey(idToken)),
      fc.constant(signWithForeignKey(idToken, { sub: 'local-alice', exp: 9_999_999_999 })),
      fc.constant(`${idToken.split('.').slice(0, 2).join('.')}.`),
      fc.constant(idToken.replace(/^[^.]+/, Buffer.from('{"alg":"none"}').toString('base64url'))),
      pollutingObject.map(
        (claims) =>
          `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`,
      ),
    );
    await fc.assert(
      fc.asyncProperty(token, async (value) =>
        tryInput(tally('ws $connect'), rs.publishes, true, async () => {
          const url =
            value === undefined
              ? rs.stack.wsUrl
              : withToken(rs.stack.wsUrl, value.replace(/\p{Cs}/gu, '\ufffd'));
          try {
            const socket = await connectTestSocket(url);
            await socket.close();
            return { status: 101, describe: `token ${value?.slice(0, 80)}` };
          } catch (error) {
            const status = Number(/(\d{3})/.exec((error as Error).message)?.[1] ?? 0);
            return { status, describe: `token ${value?.slice(0, 80)}` };
          }
        }),
      ),
      { numRuns: RUNS },
    );
  });
});

describe('the WebSocket frames under hostile input', () => {
  let socket: TestSocket;
  const RESPONSES = new Set(['ack', 'error', 'pong', 'stopping']);
  const responses = () => socket.frames.filter((frame) => RESPONSES.has(frame.type));

  beforeAll(async () => {
    socket = await connectTestSocket(withToken(rs.stack.wsUrl, idToken));
  });
  afterAll(async () => socket?.close());

  /** Sends a frame and waits for its route response; none at all (a throwing handler) counts as a crash. */
  async function sendFrame(data: string | Buffer) {
    const before = responses().length;
    if (typeof data === 'string') socket.sendRaw(data);
    else socket.socket.send(data, { binary: true });
    const answer = await socket
      .waitFor(() => responses().length > before, 10_000)
      .then(() => responses()[before]!)
      .catch(() => undefined);
    if (!answer) return { status: 500, describe: `no answer to ${String(data).slice(0, 120)}` };
    const status = answer.type === 'error' ? 400 : 200;
    return { status, describe: String(data).slice(0, 120) };
  }

  it('answers every frame with an ack, pong or a clear error frame, and publishes nothing for an error', async () => {
    const sendMessage = fc
      .record(
        {
          action: fc.constantFrom('sendMessage', 'stop', 'ping', 'SENDMESSAGE', '__proto__', ''),
          conversationId: fc.oneof(hostileString, fc.constantFrom('conv-1', 'a'.repeat(300))),
          clientMessageId: fc.oneof(hostileString, fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/)),
          messageId: hostileString,
          text: fc.oneof(
            hostileString,
            fc.constantFrom('x'.repeat(200_000), '   ', '/schedules', '/unschedule nope'),
          ),
        },
        { requiredKeys: [] },
      )
      .map((frame) => JSON.stringify(frame));
    const frame = fc.oneof(
      { weight: 4, arbitrary: sendMessage },
      { weight: 2, arbitrary: jsonText },
      { weight: 1, arbitrary: deepJson },
      { weight: 1, arbitrary: hostileString.filter((s) => s.length > 0) },
      {
        weight: 1,
        arbitrary: fc.uint8Array({ minLength: 1, maxLength: 512 }).map((bytes) => Buffer.from(bytes)),
      },
    );
    await fc.assert(
      fc.asyncProperty(frame, async (data) =>
        tryInput(tally('ws frames'), rs.publishes, false, () => sendFrame(data)),
      ),
      { numRuns: RUNS },
    );
    expect(socket.socket.readyState).toBe(socket.socket.OPEN);
    expect(prototypeIsClean()).toBe(true);
  });
});

describe('scheduled-job fire events under hostile detail', () => {
  it('drops malformed fires and fires of jobs that do not exist, without a throw or a message', async () => {
    // The fires this test puts on the bus are its inputs, not publishes of the handler under test.
    let fires = 0;
    const published = { ...rs.publishes, total: () => rs.publishes.total() - fires };
    const detail = fc.oneof(
      pollutingObject,
      fc.record(
        {
          scheduleId: fc.oneof(hostileString, fc.constantFrom('job-1', 'sched-0001')),
          userId: fc.oneof(hostileString, fc.constantFrom('local-user', 'local-alice')),
          firedAt: fc.oneof(
            hostileString,
            fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          ),
          prompt: hostileString,
          conversationId: hostileString,
          attempt: fc.oneof(fc.integer(), fc.double(), fc.constant(-1)),
          replyTo: fc.oneof(pollutingObject, fc.constant({ channel: 'web', address: { connectionId: 'x' } })),
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(detail, async (value) =>
        tryInput(tally('schedule fired'), published, true, async () => {
          const deadBefore = rs.stack.bus.deadLetters.length;
          const sent = published.total();
          fires++;
          const [result] = rs.stack.bus.putEvents([
            { Source: EventSources.scheduler, DetailType: 'ScheduleFired.v1', Detail: JSON.stringify(value) },
          ]);
          await rs.stack.bus.idle();
          await quiet(rs.publishes, 20);
          const messages = published.total() - sent;
          const threw = rs.stack.bus.deadLetters.length > deadBefore;
          return {
            status: threw ? 500 : result?.ErrorCode || messages > 0 ? 200 : 400,
            describe: JSON.stringify(value).slice(0, 200),
          };
        }),
      ),
      { numRuns: RUNS },
    );
  });
});
