// The bundle's entry (`dist/web/openclaw-chat.js`): importing it registers <openclaw-chat>,
// <openclaw-sign-in>, <openclaw-settings> and <openclaw-app>.

// For building other elements on the same pieces.
export { ApiClient, ApiRequestError } from './api-client.ts';
// Commonly used: the elements, the sign-in session, and the shapes of their event details.
export type { AppConfig } from './app-config.ts';
export type { OpenclawAuthOptions, SignInResult, TokenSource } from './auth-controller.ts';
export { OpenclawAuth } from './auth-controller.ts';
export type { ChatConnectionOptions, ConnectionState, StopFrame } from './chat-connection.ts';
export { ChatConnection, resolveEndpoint, withToken } from './chat-connection.ts';
export type { ChatMessage } from './chat-log.ts';
export { AuthError } from './cognito-client.ts';
export { renderMarkdown } from './markdown.ts';
export { OpenclawApp } from './openclaw-app.ts';
export type { MessageSentDetail, ReplyCompletedDetail, TokenGetter } from './openclaw-chat.ts';
export { OpenclawChat } from './openclaw-chat.ts';
export type { ScheduledJobView } from './openclaw-settings.ts';
export { OpenclawSettings } from './openclaw-settings.ts';
export { OpenclawSignIn } from './openclaw-sign-in.ts';
