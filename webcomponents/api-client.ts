import type { TokenSource } from './auth-controller.ts';

/**
 * A refusal of the management API (`{code, message}`, shown to the user as `message`), or a failure to
 * reach it (`status` 0, `code` `NETWORK_ERROR`).
 */
export class ApiRequestError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ApiRequestError';
    this.status = status;
    this.code = code;
  }
}

/** What a request sends besides method and path. */
export interface ApiRequestInit {
  /** Sent as `application/json`. */
  json?: unknown;
  /** Sent as is, with `contentType` (a skill upload). */
  body?: Blob | ArrayBuffer | string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** A successful answer: the parsed JSON body (undefined for 204) and the ETag, if any. */
export interface ApiResponse<T> {
  status: number;
  data: T;
  etag: string | undefined;
}

/** Options of {@link ApiClient}. */
export interface ApiClientOptions {
  /** The REST API's base URL. @default the page's origin */
  baseUrl?: string;
  /** Where the bearer token comes from; without one, requests go out unauthenticated (local mode). */
  auth?: TokenSource;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * A small client for `/v1/...`: adds `Authorization: Bearer <id token>`, turns `{code, message}` answers
 * into {@link ApiRequestError}, and on a 401 asks for a fresh token and tries once more.
 * @example const { data } = await new ApiClient({ baseUrl, auth }).request<SettingsView>('GET', '/v1/settings');
 */
export class ApiClient {
  #base: string;
  #auth: TokenSource | undefined;
  #fetch: typeof fetch;

  constructor(options: ApiClientOptions = {}) {
    this.#base = (options.baseUrl || globalThis.location?.origin || '').replace(/\/+$/, '');
    this.#auth = options.auth;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Sends one request. @throws ApiRequestError for any non-2xx answer or network failure */
  async request<T>(method: string, path: string, init: ApiRequestInit = {}): Promise<ApiResponse<T>> {
    let response = await this.#send(method, path, init, false);
    if (response.status === 401 && this.#auth) response = await this.#send(method, path, init, true);
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const { code, message } = (body ?? {}) as { code?: unknown; message?: unknown };
      throw new ApiRequestError(
        response.status,
        typeof code === 'string' ? code : `HTTP_${response.status}`,
        typeof message === 'string' ? message : `The server answered ${response.status}.`,
      );
    }
    return { status: response.status, data: body as T, etag: response.headers.get('etag') ?? undefined };
  }

  async #send(method: string, path: string, init: ApiRequestInit, forceRefresh: boolean): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...init.headers };
    let token: string | undefined;
    try {
      token = await this.#auth?.getToken({ forceRefresh });
    } catch (cause) {
      throw new ApiRequestError(401, 'SIGNED_OUT', 'Your session has ended. Sign in again.', { cause });
    }
    if (token) headers.authorization = `Bearer ${token}`;
    let body: BodyInit | undefined;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    } else if (init.body !== undefined) {
      if (init.contentType) headers['content-type'] = init.contentType;
      body = init.body;
    }
    try {
      return await this.#fetch(`${this.#base}${path}`, { method, headers, body });
    } catch (cause) {
      throw new ApiRequestError(
        0,
        'NETWORK_ERROR',
        'Could not reach the server. Check the connection and try again.',
        {
          cause,
        },
      );
    }
  }
}

/** Encodes one path segment (a conversation id, a skill name…). */
export const segment = (value: string): string => encodeURIComponent(value);
