import type { Conversation, ConversationList } from '../schemas/index.ts';
import { type ApiClient, ApiRequestError, segment } from './api-client.ts';

/** A page of the user's conversations, newest first (`GET /v1/conversations`). */
export async function listConversations(
  api: ApiClient,
  cursor?: string,
  limit = 20,
): Promise<ConversationList> {
  const query = new URLSearchParams({ limit: String(limit), ...(cursor ? { cursor } : {}) });
  return (await api.request<ConversationList>('GET', `/v1/conversations?${query}`)).data;
}

/** One stored conversation with its messages, or undefined when there is none with this id (404). */
export async function getConversation(
  api: ApiClient,
  conversationId: string,
): Promise<Conversation | undefined> {
  try {
    return (await api.request<Conversation>('GET', `/v1/conversations/${segment(conversationId)}`)).data;
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 404) return undefined;
    throw error;
  }
}

/** Deletes a conversation and its messages. */
export async function deleteConversation(api: ApiClient, conversationId: string): Promise<void> {
  await api.request('DELETE', `/v1/conversations/${segment(conversationId)}`);
}
