import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Entity } from 'dynamodb-toolbox/entity';
import { boolean } from 'dynamodb-toolbox/schema/boolean';
import { item } from 'dynamodb-toolbox/schema/item';
import { number } from 'dynamodb-toolbox/schema/number';
import { set } from 'dynamodb-toolbox/schema/set';
import { string } from 'dynamodb-toolbox/schema/string';
import { Table } from 'dynamodb-toolbox/table';

/**
 * The single DynamoDB table and its entities (dynamodb-toolbox). Keys are prefixed by entity so one
 * table holds them all; see docs/architecture.md for the mapping. Items that may expire carry
 * `expiresAt` (epoch seconds, the table's TTL attribute); DynamoDB deletes them lazily and dynalite
 * never does, so readers must also check `expiresAt` themselves.
 */

export const PARTITION_KEY = 'pk';
export const SORT_KEY = 'sk';
export const TTL_ATTRIBUTE = 'expiresAt';

/**
 * A sparse index for the watchdog: only the task records that are not idle, and the messages waiting in a
 * user's queue (partition {@link QUEUED_MESSAGE_MARK}), carry the attribute, so the index stays as small as
 * the number of live tasks and waiting messages, and each is read with one Query.
 */
export const ACTIVE_TASKS_INDEX = 'active-tasks';
export const ACTIVE_TASK_ATTRIBUTE = 'activeTask';
/** The one value of {@link ACTIVE_TASK_ATTRIBUTE}: the index's partition. */
export const ACTIVE_TASK_MARK = 'TASK';
/** The index partition of queued messages: the watchdog finds queues nobody is answering there. */
export const QUEUED_MESSAGE_MARK = 'QUEUED';

export interface StorageOptions {
  /** @default a client for the region and endpoint in the environment (`AWS_ENDPOINT_URL_DYNAMODB` locally) */
  documentClient?: DynamoDBDocumentClient;
  /** @default process.env.TABLE_NAME */
  tableName?: string;
}

function createTable(documentClient: DynamoDBDocumentClient, tableName: string) {
  return new Table({
    name: tableName,
    partitionKey: { name: PARTITION_KEY, type: 'string' },
    sortKey: { name: SORT_KEY, type: 'string' },
    indexes: {
      [ACTIVE_TASKS_INDEX]: { type: 'global', partitionKey: { name: ACTIVE_TASK_ATTRIBUTE, type: 'string' } },
    },
    documentClient,
  });
}

function createEntities(table: ReturnType<typeof createTable>) {
  const ConnectionEntity = new Entity({
    name: 'Connection',
    table,
    timestamps: false,
    schema: item({
      connectionId: string().key(),
      userId: string(),
      connectedAt: string(),
      expiresAt: number(),
    }),
    computeKey: ({ connectionId }) => ({ pk: `CONN#${connectionId}`, sk: 'CONN' }),
  });

  /** The same connection listed under its user, so replies reach every open tab, also after a reconnect. */
  const UserConnectionEntity = new Entity({
    name: 'UserConnection',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      connectionId: string().key(),
      expiresAt: number(),
    }),
    computeKey: ({ userId, connectionId }) => ({ pk: `USER#${userId}`, sk: `CONN#${connectionId}` }),
  });

  /**
   * The per-user session lock: its own item, never shared with runtime/task state. On Lambda its holder also
   * answers the user's queue (one holder per queue: agent/runtime/pending-drain.ts).
   */
  const SessionLockEntity = new Entity({
    name: 'SessionLock',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      owner: string(),
      leaseExpiresAt: number(),
      expiresAt: number(),
      /**
       * Set by a Lambda turn that found the lock held and queued its message: the holder answers the queue
       * before it lets go, and whoever takes the lock next (after a crash) answers the queue first.
       */
      waiting: boolean().optional(),
    }),
    computeKey: ({ userId }) => ({ pk: `USER#${userId}`, sk: 'LOCK#session' }),
  });

  const UserSettingsEntity = new Entity({
    name: 'UserSettings',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      /** JSON of LlmSettings; validated with zod on read. */
      llm: string().optional(),
      /** lambda, fargate or auto; absent: the deployment default. */
      runtime: string().optional(),
      /** Minutes the user's Fargate task may sit idle; absent: the deployment default. */
      idleTimeoutMinutes: number().optional(),
      updatedAt: string(),
    }),
    computeKey: ({ userId }) => ({ pk: `USER#${userId}`, sk: 'SETTINGS' }),
  });

  /**
   * Remembers a message we already accepted, so a retried delivery is not answered twice. `pending`
   * until the publish succeeded: a duplicate that sees `pending` is asked to retry, not acknowledged.
   */
  const MessageDedupeEntity = new Entity({
    name: 'MessageDedupe',
    table,
    timestamps: false,
    schema: item({
      dedupeKey: string().key(),
      messageId: string(),
      state: string().enum('pending', 'published'),
      expiresAt: number(),
    }),
    computeKey: ({ dedupeKey }) => ({ pk: `DEDUPE#${dedupeKey}`, sk: 'DEDUPE' }),
  });

  /**
   * One agent turn per message id. EventBridge delivers at least once: a redelivered message whose turn
   * completed gets its stored reply published again instead of a second LLM call.
   */
  const TurnRecordEntity = new Entity({
    name: 'TurnRecord',
    table,
    timestamps: false,
    schema: item({
      messageId: string().key(),
      /** JSON of the ReplyCompleted detail, once the turn has completed. */
      reply: string().optional(),
      /** Lambda invocations that took this message to answer it at once (`countDirectAttempt`). */
      attempts: number().optional(),
      expiresAt: number(),
    }),
    computeKey: ({ messageId }) => ({ pk: `TURN#${messageId}`, sk: 'TURN' }),
  });

  /**
   * The user's Fargate task lifecycle (idle -> starting -> running -> stopping -> idle; starting -> idle
   * on failure). Its own item, separate from the session lock. `version` increments on every change so
   * each transition is a conditional write on the state it came from.
   */
  const TaskStateEntity = new Entity({
    name: 'TaskState',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      status: string().enum('idle', 'starting', 'running', 'stopping'),
      /** ECS task ARN, or `local:<pid>` in local mode. */
      taskId: string().optional(),
      /** Epoch ms of the last transition. */
      changedAt: number(),
      /** Epoch ms of the last message the task took; the watchdog's idle clock. */
      lastActivityAt: number().optional(),
      version: number(),
      /** Set (to ACTIVE_TASK_MARK) on every status but idle: the key of the sparse active-tasks index. */
      activeTask: string().optional().savedAs(ACTIVE_TASK_ATTRIBUTE),
    }),
    computeKey: ({ userId }) => ({ pk: `USER#${userId}`, sk: 'TASK' }),
  });

  /**
   * Messages waiting for the user's Fargate task or their Lambda turns, in arrival order (`seq` sorts them:
   * receivedAt and message id). Written by the runtime selector (Fargate) or by a Lambda turn that found
   * the user busy; removed by whoever answered them.
   */
  const PendingMessageEntity = new Entity({
    name: 'PendingMessage',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      seq: string().key(),
      /** JSON of the MessageReceived detail. */
      message: string(),
      /** How many times a task took it without answering (a crash mid-turn); retried once. */
      attempts: number(),
      expiresAt: number(),
      /** Set (to QUEUED_MESSAGE_MARK) while queued: the watchdog's view of queues (sparse index). */
      queued: string().optional().savedAs(ACTIVE_TASK_ATTRIBUTE),
    }),
    computeKey: ({ userId, seq }) => ({ pk: `USER#${userId}`, sk: `PENDING#${seq}` }),
  });

  /**
   * Which internal user a channel account belongs to (Telegram, Discord or Slack user id -> our user id),
   * written when the person links it with a code from their signed-in web session.
   */
  const ChannelIdentityEntity = new Entity({
    name: 'ChannelIdentity',
    table,
    timestamps: false,
    schema: item({
      channel: string().key(),
      channelUserId: string().key(),
      userId: string(),
      linkedAt: string(),
    }),
    computeKey: ({ channel, channelUserId }) => ({
      pk: `IDENTITY#${channel}#${channelUserId}`,
      sk: 'IDENTITY',
    }),
  });

  /** A one-time code a signed-in user sends to a bot (`/link CODE`) to link that channel account. */
  const LinkCodeEntity = new Entity({
    name: 'LinkCode',
    table,
    timestamps: false,
    schema: item({
      code: string().key(),
      userId: string(),
      expiresAt: number(),
    }),
    computeKey: ({ code }) => ({ pk: `LINKCODE#${code}`, sk: 'LINKCODE' }),
  });

  /** Failed `/link` attempts of one channel account in the current window: codes cannot be guessed by brute force. */
  const LinkAttemptsEntity = new Entity({
    name: 'LinkAttempts',
    table,
    timestamps: false,
    schema: item({
      channel: string().key(),
      channelUserId: string().key(),
      failures: number(),
      expiresAt: number(),
    }),
    computeKey: ({ channel, channelUserId }) => ({
      pk: `LINKTRY#${channel}#${channelUserId}`,
      sk: 'LINKTRY',
    }),
  });

  /** The conversation a channel chat is in now; `/new` replaces it so the agent starts afresh. */
  const ChannelConversationEntity = new Entity({
    name: 'ChannelConversation',
    table,
    timestamps: false,
    schema: item({
      channel: string().key(),
      chatKey: string().key(),
      conversationId: string(),
      startedAt: string(),
    }),
    computeKey: ({ channel, chatKey }) => ({ pk: `CHAT#${channel}#${chatKey}`, sk: 'CHAT' }),
  });

  /**
   * How far a reply has been delivered on a channel that streams by editing messages: the platform's ids
   * of the messages posted for it and the highest `seq` shown, so out-of-order deltas never overwrite
   * newer text and the completed reply edits the same messages.
   */
  const ChannelReplyEntity = new Entity({
    name: 'ChannelReply',
    table,
    timestamps: false,
    schema: item({
      inReplyTo: string().key(),
      /** JSON array of the platform's message ids, in order. */
      messageIds: string(),
      seq: number(),
      completed: boolean(),
      /** Epoch ms of the last edit, for the platform's edit rate. */
      editedAt: number(),
      expiresAt: number(),
    }),
    computeKey: ({ inReplyTo }) => ({ pk: `CHREPLY#${inReplyTo}`, sk: 'CHREPLY' }),
  });

  /**
   * A user's scheduled agent job: a prompt the agent answers on a schedule, the reply going where the
   * user chose. `version` increments on every change, so edits are conditional writes (no lost update).
   */
  const ScheduleJobEntity = new Entity({
    name: 'ScheduleJob',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      jobId: string().key(),
      prompt: string(),
      /** Canonical form from parseScheduleExpression: what AWS is sent. */
      expression: string(),
      timeZone: string(),
      /** JSON of the ReplyTo the reply goes to; validated with zod on read. */
      replyTo: string(),
      conversationId: string(),
      /** lambda, fargate or auto; absent: the user's setting. */
      runtime: string().optional(),
      enabled: boolean(),
      /** ISO; no fire at or after it. */
      endDate: string().optional(),
      createdAt: string(),
      updatedAt: string(),
      /** Epoch ms of the next fire as computed at the last write (shown to the user; local scheduler). */
      nextFireAt: number().optional(),
      /** JSON of the latest failed run (producers/schedule/run-outcome.ts); not an edit: `version` stays. */
      lastFailure: string().optional(),
      version: number(),
    }),
    computeKey: ({ userId, jobId }) => ({ pk: `USER#${userId}`, sk: `SCHEDULE#${jobId}` }),
  });

  /**
   * One run of a scheduled job, by the message id it published: what the run-outcome handler needs to
   * retry it (or report it) when its turn fails, even after a one-time job was deleted.
   */
  const ScheduleRunEntity = new Entity({
    name: 'ScheduleRun',
    table,
    timestamps: false,
    schema: item({
      messageId: string().key(),
      userId: string(),
      jobId: string(),
      /** JSON of the ScheduleFired detail of this run (with its attempt). */
      fire: string(),
      oneTime: boolean(),
      expiresAt: number(),
    }),
    computeKey: ({ messageId }) => ({ pk: `SCHEDRUN#${messageId}`, sk: 'SCHEDRUN' }),
  });

  /**
   * A user's custom skill (`POST /v1/skills`). Its files live in the state bucket under
   * `skills/<userId>/<name>/<version>/` (`schemas/skill-storage.ts`); `paths` lists them, because
   * listing deep prefixes is unreliable on s3rver. `version` hashes the contents: the agent's cache key.
   */
  const SkillEntity = new Entity({
    name: 'Skill',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      name: string().key(),
      description: string(),
      enabled: boolean(),
      /** JSON array of the files' paths relative to the skill folder; SKILL.md among them. */
      paths: string(),
      files: number(),
      bytes: number(),
      version: string(),
      updatedAt: string(),
    }),
    computeKey: ({ userId, name }) => ({ pk: `USER#${userId}`, sk: `SKILL#${name}` }),
  });

  /**
   * One conversation in the user's history. Written by the history consumer from events the bus neither
   * orders nor dedupes, so every field is order-independent: the message and reply ids are sets (adding
   * one twice counts once; `messageCount` is their sizes), `createdAt`/`title` come from the earliest
   * user message and `updatedAt` is the latest event, each set by a conditional write. An item without
   * `createdAt` (only replies seen so far) is not listed.
   */
  const ConversationEntity = new Entity({
    name: 'Conversation',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      conversationId: string().key(),
      title: string().optional(),
      channel: string().optional(),
      createdAt: string().optional(),
      updatedAt: string().optional(),
      userMessageIds: set(string()).optional(),
      replyIds: set(string()).optional(),
    }),
    computeKey: ({ userId, conversationId }) => ({ pk: `USER#${userId}`, sk: `CONV#${conversationId}` }),
  });

  /** One turn of a stored conversation, keyed by the user message id: both halves, whichever came first. */
  const ConversationTurnEntity = new Entity({
    name: 'ConversationTurn',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      conversationId: string().key(),
      messageId: string().key(),
      userText: string().optional(),
      userAt: string().optional(),
      replyText: string().optional(),
      replyAt: string().optional(),
      status: string().optional(),
      /** JSON of the UserFacingError a failed reply carried. */
      error: string().optional(),
    }),
    computeKey: ({ userId, conversationId, messageId }) => ({
      pk: `USER#${userId}`,
      sk: `CONVTURN#${conversationId}#${messageId}`,
    }),
  });

  /**
   * A conversation the user deleted: events about it from before `deletedAt` (late or redelivered) are
   * dropped instead of re-creating it. Expires once no such event can still arrive.
   */
  const ConversationDeletedEntity = new Entity({
    name: 'ConversationDeleted',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      conversationId: string().key(),
      deletedAt: string(),
      expiresAt: number(),
    }),
    computeKey: ({ userId, conversationId }) => ({ pk: `USER#${userId}`, sk: `CONVDEL#${conversationId}` }),
  });

  /**
   * The user asked to stop a message's turn (the web chat's stop button). Keyed under the asking user, so
   * a stop for someone else's message id lands in the asker's own partition, where no turn looks.
   */
  const AbortRequestEntity = new Entity({
    name: 'AbortRequest',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      messageId: string().key(),
      requestedAt: string(),
      expiresAt: number(),
    }),
    computeKey: ({ userId, messageId }) => ({ pk: `USER#${userId}`, sk: `ABORT#${messageId}` }),
  });

  /** A linked chat account listed under its user, for `GET /v1/channels`; mirrors ChannelIdentity. */
  const UserChannelLinkEntity = new Entity({
    name: 'UserChannelLink',
    table,
    timestamps: false,
    schema: item({
      userId: string().key(),
      channel: string().key(),
      channelUserId: string().key(),
      linkedAt: string(),
    }),
    computeKey: ({ userId, channel, channelUserId }) => ({
      pk: `USER#${userId}`,
      sk: `LINK#${channel}#${channelUserId}`,
    }),
  });

  return {
    ConversationEntity,
    ConversationTurnEntity,
    ConversationDeletedEntity,
    AbortRequestEntity,
    UserChannelLinkEntity,
    SkillEntity,
    ScheduleJobEntity,
    ScheduleRunEntity,
    ChannelIdentityEntity,
    LinkCodeEntity,
    LinkAttemptsEntity,
    ChannelConversationEntity,
    ChannelReplyEntity,
    TaskStateEntity,
    PendingMessageEntity,
    ConnectionEntity,
    UserConnectionEntity,
    SessionLockEntity,
    UserSettingsEntity,
    MessageDedupeEntity,
    TurnRecordEntity,
  };
}

export type Storage = { table: ReturnType<typeof createTable> } & ReturnType<typeof createEntities>;

/** Creates the table handle and its entities. Create once per process and reuse. */
export function createStorage(options: StorageOptions = {}): Storage {
  const tableName = options.tableName ?? process.env.TABLE_NAME;
  if (!tableName) throw new Error('No table: set TABLE_NAME or pass { tableName } to createStorage()');
  const documentClient =
    options.documentClient ??
    DynamoDBDocumentClient.from(
      new DynamoDBClient({ requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } }),
      { marshallOptions: { removeUndefinedValues: true } },
    );
  const table = createTable(documentClient, tableName);
  return { table, ...createEntities(table) };
}

/** True when a conditional write was refused because its condition did not hold (not a fault). */
export function isConditionalCheckFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Epoch seconds, the unit of DynamoDB TTL. */
export function epochSeconds(date: Date | number = Date.now()): number {
  return Math.floor(new Date(date).getTime() / 1000);
}
