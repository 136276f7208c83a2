import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  awaitAnswers,
  type Conversation,
  completedOf,
  judge,
  openConversation,
  send,
} from './conversations.ts';
import { byScale, recordCounts } from './counts.ts';
import { type ReliabilityStack, startReliabilityStack } from './harness.ts';
import { standInAgent } from './stand-in-agent.ts';

// The load run: 100 conversations x 10 messages (CI: 20 x 5) through the real local pipeline (web
// socket in, bus, runtime selector, turn runner with its lock and S3 state, web consumer out). The agent
// is a stand-in at the adapter seam: a real OpenClaw turn costs ~1 s of a core here, 1,000 of them would
// not fit the CI budget.
const CONVERSATIONS = byScale({ ci: 20, full: 100 });
const MESSAGES = byScale({ ci: 5, full: 10 });
const USERS = byScale({ ci: 4, full: 25 });

describe(`load: ${CONVERSATIONS} conversations x ${MESSAGES} messages, ${USERS} users, in local mode`, () => {
  const users = Array.from({ length: USERS }, (_, i) => ({
    username: `load${i}`,
    password: `load-password-${i}`,
  }));
  const agent = standInAgent({ turnMs: 20 });
  let rs: ReliabilityStack;
  let conversations: Conversation[] = [];

  beforeAll(async () => {
    rs = await startReliabilityStack({ users, loadAdapter: async () => agent });
  });
  afterAll(async () => {
    await Promise.all(conversations.map((c) => c.socket.close()));
    await rs?.close();
  });

  it('answers every message exactly once, in order per conversation', async () => {
    // Prepare: each conversation on its own socket, spread over the users
    conversations = await Promise.all(
      Array.from({ length: CONVERSATIONS }, (_, i) => {
        const user = users[i % USERS]!;
        return openConversation(rs.stack.wsUrl, rs.stack.url, user.username, user.password, `load-conv-${i}`);
      }),
    );
    const startedAt = Date.now();

    // Act: every conversation sends its messages one after the other (each after its ack, not its reply)
    await Promise.all(
      conversations.map(async (conversation, i) => {
        for (let m = 0; m < MESSAGES; m++) await send(conversation, `conversation ${i} message ${m}`);
      }),
    );
    await awaitAnswers(conversations, byScale({ ci: 240_000, full: 540_000 }));
    const elapsedMs = Date.now() - startedAt;

    // Assess
    const { lost, duplicates, outOfOrder, errors } = judge(conversations);
    const sent = conversations.reduce((n, c) => n + c.sent.length, 0);
    const refused = conversations.reduce((n, c) => n + c.refused.length, 0);
    recordCounts(
      'load',
      { inputsTried: CONVERSATIONS * MESSAGES, lost: lost + refused, duplicates, reported: errors },
      `${CONVERSATIONS}x${MESSAGES}, ${USERS} users, stand-in agent, ${outOfOrder} out of order, ${(elapsedMs / 1000).toFixed(1)} s`,
    );
    console.log(
      `load: ${sent} answered of ${CONVERSATIONS * MESSAGES} in ${elapsedMs} ms, ${agent.turns} turns`,
    );
    if (outOfOrder > 0) {
      // For the failure report: the order in which the agent took each conversation's messages.
      const turnOrder: Record<string, number[]> = {};
      for (const prompt of agent.prompts) {
        const [, conversation, message] = /conversation (\d+) message (\d+)/.exec(prompt) ?? [];
        if (conversation) turnOrder[conversation] = [...(turnOrder[conversation] ?? []), Number(message)];
      }
      console.log('load: turn order per conversation', JSON.stringify(turnOrder));
    }
    expect(refused).toBe(0);
    expect({ lost, duplicates, errors }).toEqual({ lost: 0, duplicates: 0, errors: 0 });
    // Each answer is the one to its own message, whatever order they came in.
    for (const conversation of conversations) {
      const answers = new Map(completedOf(conversation).map((frame) => [frame.inReplyTo, frame.text]));
      for (const message of conversation.sent) {
        expect(answers.get(message.messageId)).toBe(`Answer to: ${message.text}`);
      }
    }
    // One user's messages are answered oldest first on the Lambda runtime too (agent/runtime/pending-drain.ts).
    expect(outOfOrder, `${outOfOrder} of ${CONVERSATIONS} conversations answered out of order`).toBe(0);
    expect(agent.turns).toBe(CONVERSATIONS * MESSAGES);
  });
});
