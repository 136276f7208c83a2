import type { KeyObject } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Publisher } from '../../bus/index.ts';
import { MAX_MESSAGE_TEXT_CHARS } from '../../schemas/common.ts';
import type { Storage } from '../../schemas/table.ts';
import type { JobStore } from '../schedule/index.ts';
import { type ChannelMessage, createChannelIngress, type IngressResult } from '../shared/channel-ingress.ts';
import { header, jsonResponse, MAX_WEBHOOK_BODY_BYTES, rawBody, textResponse } from '../shared/http.ts';
import { createIdentity } from '../shared/identity.ts';
import { createScheduleCommands, type ScheduleCommandName } from '../shared/schedule-commands.ts';
import { CommandOptions, Commands } from './commands.ts';
import {
  channelIdOf,
  chatKeyOf,
  type Interaction,
  InteractionSchema,
  InteractionType,
  senderOf,
  stringOption,
  targetMessageText,
} from './interaction.ts';
import { deferred, ephemeral, pong, Texts } from './responses.ts';
import { checkSignature, MAX_TIMESTAMP_SKEW_SECONDS, publicKeyFromHex } from './verify-signature.ts';

export interface DiscordProducerDeps {
  storage: Storage;
  publisher: Publisher;
  /** The application's public key (hex), read when needed: on AWS it comes from SSM, cached. */
  publicKey: () => Promise<string | undefined>;
  /** Discord accounts that get an agent without linking, as `discord:<user id>`. */
  allowedUsers?: readonly string[];
  logger: Logger;
  /** The web chat's address, shown to strangers in the linking instructions. */
  webAppUrl?: string;
  /** @default Date.now */
  now?: () => number;
  /** @default 300 (5 minutes) */
  maxTimestampSkewSeconds?: number;
  /** Pause between looks at a delivery of the same interaction that is still being published. @default 300 */
  inFlightPollMs?: number;
  /** The scheduled-jobs store behind `/schedule`, `/schedules`, `/unschedule` (the one `/v1/schedules` uses). */
  jobs?: JobStore;
}

/**
 * The reply address of a job made with `/schedule`. The interaction token is a credential that lapses
 * after 15 minutes, so it is not stored with a job that may run for months: an already-lapsed stand-in
 * (`interactionAt` 1) makes the Discord consumer post to the channel with the bot token.
 */
function jobReplyAddress(interaction: Interaction, channelId: string): DiscordReplyAddress {
  return {
    applicationId: interaction.application_id,
    interactionToken: 'lapsed',
    channelId,
    interactionAt: 1,
  };
}

/** The token and ids the consumer needs to answer: see consumers/discord (it validates this shape). */
export interface DiscordReplyAddress extends Record<string, string | number> {
  applicationId: string;
  /** Lets the consumer edit the "thinking…" message for 15 minutes. A credential: never logged. */
  interactionToken: string;
  /** Where the consumer posts with the bot token once the interaction token has expired. */
  channelId: string;
  /** Epoch ms the interaction arrived: its token is good for 15 minutes from then. */
  interactionAt: number;
}

const unauthorized = () => textResponse(401, 'invalid request signature');
const badRequest = (error: string) => jsonResponse(400, { error });
// A base64 body is 4/3 the size of the bytes it carries: refuse oversized ones before decoding them.
const MAX_ENCODED_BODY_CHARS = Math.ceil((MAX_WEBHOOK_BODY_BYTES * 4) / 3) + 4;
const IN_FLIGHT_LOOKS = 3;

const safeError = (error: unknown) =>
  error instanceof Error ? { name: error.name, message: error.message } : { name: 'Unknown', message: '' };

/**
 * Discord's Interactions endpoint (`POST /webhooks/discord`): verifies Discord's Ed25519 signature and the
 * timestamp, answers PING, and turns `/ask` and the "Ask OpenClaw" message command into `MessageReceived`
 * with a deferred answer ("thinking…") that the Discord consumer later edits. `/link`, `/new`, `/status`
 * and `/help` are answered here, privately (ephemeral). Strangers get an explanation and no agent. It never
 * waits for the agent: Discord wants an answer within 3 seconds.
 */
export function createDiscordProducer(deps: DiscordProducerDeps) {
  const { storage, publisher, logger } = deps;
  const now = deps.now ?? Date.now;
  const maxSkew = deps.maxTimestampSkewSeconds ?? MAX_TIMESTAMP_SKEW_SECONDS;
  const inFlightPollMs = deps.inFlightPollMs ?? 300;
  const identity = createIdentity({ storage, allowedUsers: deps.allowedUsers ?? [], now });
  const ingress = createChannelIngress({ storage, publisher, identity, now });
  const scheduleCommands = deps.jobs ? createScheduleCommands({ jobs: deps.jobs }) : undefined;
  let cachedKey: { hex: string; key: KeyObject } | undefined;

  async function verificationKey(): Promise<KeyObject> {
    const hex = await deps.publicKey();
    if (!hex) throw new Error('DISCORD_PUBLIC_KEY is not set');
    if (cachedKey?.hex !== hex) cachedKey = { hex, key: publicKeyFromHex(hex) };
    return cachedKey.key;
  }

  /** Submits, and looks again briefly while an earlier delivery of the same interaction is mid-publish. */
  async function submit(message: ChannelMessage): Promise<IngressResult> {
    let result = await ingress.submit(message);
    for (let look = 1; result.kind === 'in-flight' && look < IN_FLIGHT_LOOKS; look++) {
      await new Promise((resolve) => setTimeout(resolve, inFlightPollMs));
      result = await ingress.submit(message);
    }
    return result;
  }

  async function ask(
    interaction: Interaction,
    sender: { id: string; displayName?: string },
    text: string | undefined,
    emptyText: string,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const prompt = text?.trim();
    if (!prompt) return ephemeral(emptyText);
    if (prompt.length > MAX_MESSAGE_TEXT_CHARS) {
      return ephemeral(Texts.tooLong(prompt.length, MAX_MESSAGE_TEXT_CHARS));
    }
    const channelId = channelIdOf(interaction);
    if (!channelId) return ephemeral(Texts.noChannel);
    const address: DiscordReplyAddress = {
      applicationId: interaction.application_id,
      interactionToken: interaction.token,
      channelId,
      interactionAt: now(),
    };
    const result = await submit({
      channel: 'discord',
      channelUserId: sender.id,
      ...(sender.displayName ? { displayName: sender.displayName } : {}),
      deliveryId: `interaction:${interaction.id}`,
      chatKey: chatKeyOf(interaction, sender.id),
      text: prompt,
      replyTo: { channel: 'discord', address },
    });
    const log = { interactionId: interaction.id, discordUserId: sender.id };
    switch (result.kind) {
      case 'published':
        logger.info('message published', { ...log, messageId: result.messageId, userId: result.userId });
        return deferred();
      case 'stranger':
        logger.info('message from a stranger; asked to link', log);
        return ephemeral(Texts.stranger(deps.webAppUrl));
      // Discord delivers an interaction once and never retries it (no answer in 3 s = "interaction
      // failed"), so a second request with the same interaction id is our own retry or a replay. Discord
      // takes one answer per interaction: if the first delivery's deferred answer reached it, this answer
      // goes nowhere; if it did not, this one is what the user sees. So a second `{type:5}` is right only
      // while the message has not been acknowledged yet, that is while it is not on the bus:
      // - duplicate: the first delivery published it and answered `{type:5}`. Publishing again would
      //   answer twice; a private note is safe either way (the reply then edits that note).
      // - in-flight: the first delivery is still publishing and may yet fail. `{type:5}` now could promise
      //   an answer that never comes, so `submit` looked again; if that delivery gave the message back, we
      //   published it ourselves (`published`, above), else the user is told to ask again if nothing comes.
      case 'duplicate':
        logger.info('interaction delivered again; already on the bus', {
          ...log,
          messageId: result.messageId,
        });
        return ephemeral(Texts.alreadyReceived);
      case 'in-flight':
        logger.warn('interaction delivered again while its first delivery is still publishing', log);
        return ephemeral(Texts.stillSending);
    }
  }

  async function link(
    interaction: Interaction,
    senderId: string,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const code = stringOption(interaction, CommandOptions.code)?.trim();
    if (!code) return ephemeral(Texts.missingCode);
    const result = await identity.link('discord', senderId, code);
    if (result.linked) {
      logger.info('discord account linked', { discordUserId: senderId, userId: result.userId });
      return ephemeral(Texts.linked);
    }
    logger.warn('link refused', { discordUserId: senderId, reason: result.reason });
    return ephemeral(result.reason === 'too-many-attempts' ? Texts.tooManyAttempts : Texts.invalidCode);
  }

  /** `/schedule`, `/schedules`, `/unschedule`: a few table reads and one Scheduler call, well within 3 s. */
  async function schedule(
    interaction: Interaction,
    senderId: string,
    name: ScheduleCommandName,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const userId = await identity.resolve('discord', senderId);
    if (!userId) return ephemeral(Texts.stranger(deps.webAppUrl));
    if (!scheduleCommands) return ephemeral(Texts.schedulesUnavailable);
    const channelId = channelIdOf(interaction);
    if (!channelId) return ephemeral(Texts.noChannel);
    const option = (option: string) => stringOption(interaction, option)?.trim() ?? '';
    const tz = option(CommandOptions.tz);
    const argument =
      name === 'schedule'
        ? `${option(CommandOptions.when)}${tz ? ` tz=${tz}` : ''} ${option(CommandOptions.prompt)}`.trim()
        : option(CommandOptions.id);
    const conversationId = await ingress.currentConversation('discord', chatKeyOf(interaction, senderId));
    const text = await scheduleCommands.run(name, argument, {
      userId,
      conversationId,
      replyTo: { channel: 'discord', address: jobReplyAddress(interaction, channelId) },
    });
    logger.info('schedule command answered', { interactionId: interaction.id, userId, command: name });
    return ephemeral(text);
  }

  async function command(interaction: Interaction): Promise<APIGatewayProxyStructuredResultV2> {
    const sender = senderOf(interaction);
    const name = interaction.data?.name;
    if (!sender || !name) {
      logger.warn('command without a user or a name', { interactionId: interaction.id });
      return badRequest('command interaction without a user or data');
    }
    try {
      switch (name) {
        case Commands.help:
          return ephemeral(Texts.help);
        case Commands.link:
          return await link(interaction, sender.id);
        case Commands.ask:
          return await ask(
            interaction,
            sender,
            stringOption(interaction, CommandOptions.prompt),
            Texts.emptyPrompt,
          );
        case Commands.askAboutMessage:
          return await ask(interaction, sender, targetMessageText(interaction), Texts.emptyTargetMessage);
        case Commands.schedule:
        case Commands.schedules:
        case Commands.unschedule:
          return await schedule(interaction, sender.id, name);
        case Commands.status:
        case Commands.newConversation: {
          const userId = await identity.resolve('discord', sender.id);
          if (!userId) return ephemeral(Texts.stranger(deps.webAppUrl));
          const chatKey = chatKeyOf(interaction, sender.id);
          if (name === Commands.status) {
            return ephemeral(Texts.status(await ingress.currentConversation('discord', chatKey)));
          }
          const conversationId = await ingress.newConversation('discord', chatKey);
          logger.info('new conversation', { interactionId: interaction.id, userId, conversationId });
          return ephemeral(Texts.newConversation);
        }
        default:
          logger.warn('unknown command', { interactionId: interaction.id, command: name.slice(0, 100) });
          return ephemeral(Texts.unknownCommand);
      }
    } catch (error) {
      // Storage or bus trouble. Discord never retries, so the user hears of it now instead of seeing
      // "The application did not respond".
      logger.error('command failed', {
        interactionId: interaction.id,
        command: name,
        error: safeError(error),
      });
      return ephemeral(Texts.notSent);
    }
  }

  return async function handleDiscordInteraction(
    event: APIGatewayProxyEventV2,
  ): Promise<APIGatewayProxyStructuredResultV2> {
    const signature = header(event, 'x-signature-ed25519');
    const timestamp = header(event, 'x-signature-timestamp');
    if (!signature || !timestamp) {
      logger.warn('interaction refused: signature headers missing');
      return unauthorized();
    }
    if ((event.body?.length ?? 0) > MAX_ENCODED_BODY_CHARS) {
      logger.warn('interaction refused: body too large', { chars: event.body?.length });
      return textResponse(413, 'request body too large');
    }
    const body = rawBody(event);
    if (Buffer.byteLength(body, 'utf8') > MAX_WEBHOOK_BODY_BYTES) {
      logger.warn('interaction refused: body too large', { bytes: Buffer.byteLength(body, 'utf8') });
      return textResponse(413, 'request body too large');
    }
    let key: KeyObject;
    try {
      key = await verificationKey();
    } catch (error) {
      logger.error('cannot verify interactions: no usable public key', { error: safeError(error) });
      return textResponse(503, 'not configured');
    }
    const failure = checkSignature(key, { signature, timestamp, body }, now(), maxSkew);
    if (failure) {
      logger.warn('interaction refused', { reason: failure });
      return unauthorized();
    }
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      logger.warn('interaction refused: body is not JSON');
      return badRequest('body is not JSON');
    }
    const parsed = InteractionSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      logger.warn('interaction refused: unexpected shape', {
        path: issue?.path.join('.'),
        problem: issue?.message,
      });
      return badRequest('unexpected interaction shape');
    }
    const interaction = parsed.data;
    if (interaction.type === InteractionType.ping) return pong();
    if (interaction.type === InteractionType.applicationCommand) return command(interaction);
    // Buttons, modals and autocomplete: we register none of them.
    logger.warn('unsupported interaction type', { interactionId: interaction.id, type: interaction.type });
    return badRequest('unsupported interaction type');
  };
}

export type DiscordProducer = ReturnType<typeof createDiscordProducer>;
