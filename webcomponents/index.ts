// The bundle's entry (`dist/web/openclaw-chat.js`): importing it registers <openclaw-chat>.

export type { ChatConnectionOptions, ConnectionState } from './chat-connection.ts';
// For building other elements on the same connection.
export { ChatConnection, resolveEndpoint, withToken } from './chat-connection.ts';
export type { ChatMessage } from './chat-log.ts';
export type { MessageSentDetail, ReplyCompletedDetail, TokenGetter } from './openclaw-chat.ts';
// Commonly used: the element and the shapes of its event details.
export { OpenclawChat } from './openclaw-chat.ts';
