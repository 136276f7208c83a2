import {
  AuthError,
  type AuthenticationResult,
  type CognitoConfig,
  cognitoCall,
  type InitiateAuthResponse,
} from './cognito-client.ts';
import { safeLocalStorage } from './ids.ts';

/** The localStorage key of the kept refresh token (and the user name it belongs to). */
export const AUTH_STORAGE_KEY = 'openclaw-auth:session';

/** Anything that hands out the id token for `Authorization: Bearer` and `?token=`. */
export interface TokenSource {
  /** The id token, refreshed first when it is close to expiry (or when `forceRefresh`); undefined when signed out. */
  getToken(options?: { forceRefresh?: boolean }): Promise<string | undefined>;
}

/** Options of {@link OpenclawAuth}. */
export interface OpenclawAuthOptions extends CognitoConfig {
  /** Where the refresh token is kept. @default window.localStorage (undefined where it is unavailable) */
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  /** Refresh this long before the id token expires. @default 300000 (5 min) */
  refreshMarginMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** What {@link OpenclawAuth.signIn} found: signed in, or the user must choose a new password first. */
export type SignInResult = { signedIn: true } | { challenge: 'NEW_PASSWORD_REQUIRED' };

/**
 * When to refresh an id token that lasts `expiresInSeconds`: `marginMs` before it expires, but never in
 * the first half of its life (so a short-lived token is not refreshed in a tight loop).
 * @example refreshDelayMs(3600, 300_000) // 3_300_000 (55 min)
 */
export function refreshDelayMs(expiresInSeconds: number, marginMs: number): number {
  const lifetime = Math.max(0, expiresInSeconds) * 1000;
  return Math.max(lifetime - marginMs, lifetime / 2);
}

/**
 * Signs a user in against a Cognito user pool (or the local issuer, same protocol) and keeps the session:
 * the id token in memory only, refreshed before it expires and on demand after a 401; the refresh token in
 * localStorage so a reload stays signed in ({@link signOut} clears it). Dispatches `openclaw-signed-in`
 * (`detail: {username}`) and `openclaw-signed-out` on itself.
 * @example
 * const auth = new OpenclawAuth({ endpoint: 'https://cognito-idp.eu-west-1.amazonaws.com/', clientId });
 * await auth.restore() || await auth.signIn('me@example.com', password);
 * chat.auth = auth;
 */
export class OpenclawAuth extends EventTarget implements TokenSource {
  #config: CognitoConfig;
  #storage: OpenclawAuthOptions['storage'];
  #marginMs: number;
  #now: () => number;
  #idToken: string | undefined;
  #expiresAt = 0;
  #refreshToken: string | undefined;
  #username: string | undefined;
  #challenge: { session: string; username: string } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #refreshing: Promise<string | undefined> | undefined;

  constructor(options: OpenclawAuthOptions) {
    super();
    if (!options.endpoint || !options.clientId) {
      throw new TypeError('OpenclawAuth needs { endpoint, clientId }: the user-pool URL and app client id.');
    }
    this.#config = { endpoint: options.endpoint, clientId: options.clientId, fetch: options.fetch };
    this.#storage = 'storage' in options ? options.storage : safeLocalStorage();
    this.#marginMs = options.refreshMarginMs ?? 300_000;
    this.#now = options.now ?? Date.now;
  }

  /** Whether an id token (or a refresh token to get one) is held. */
  get signedIn(): boolean {
    return this.#idToken !== undefined || this.#refreshToken !== undefined;
  }

  /** The name the user signed in with. */
  get username(): string | undefined {
    return this.#username;
  }

  /**
   * Signs in with a user name and password (`USER_PASSWORD_AUTH`).
   * @throws AuthError, e.g. `NotAuthorizedException` for a wrong password
   */
  async signIn(username: string, password: string): Promise<SignInResult> {
    const answer = await cognitoCall<InitiateAuthResponse>(this.#config, 'InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: this.#config.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: password },
    });
    return this.#afterAuth(answer, username);
  }

  /** Completes a `NEW_PASSWORD_REQUIRED` challenge from {@link signIn} with the user's new password. */
  async completeNewPassword(newPassword: string): Promise<SignInResult> {
    const challenge = this.#challenge;
    if (!challenge) throw new AuthError('NoChallenge', 'Sign in with your current password first.');
    const answer = await cognitoCall<InitiateAuthResponse>(this.#config, 'RespondToAuthChallenge', {
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      ClientId: this.#config.clientId,
      Session: challenge.session,
      ChallengeResponses: { USERNAME: challenge.username, NEW_PASSWORD: newPassword },
    });
    return this.#afterAuth(answer, challenge.username);
  }

  /**
   * Signs in again from the refresh token kept in storage, as after a reload.
   * @returns whether the user is signed in now
   */
  async restore(): Promise<boolean> {
    const kept = this.#readStorage();
    if (!kept) return false;
    this.#refreshToken = kept.refreshToken;
    this.#username = kept.username;
    try {
      return (await this.#refresh()) !== undefined;
    } catch {
      // Unreachable issuer: stay signed in with the refresh token and try again on the next getToken.
      return this.signedIn;
    }
  }

  async getToken(options: { forceRefresh?: boolean } = {}): Promise<string | undefined> {
    const fresh = this.#idToken && this.#now() < this.#expiresAt - this.#marginMs;
    if (fresh && !options.forceRefresh) return this.#idToken;
    if (!this.#refreshToken) return this.#idToken;
    return this.#refresh();
  }

  /** Forgets the session: the id token, the stored refresh token and the refresh timer. */
  signOut(): void {
    const was = this.signedIn;
    clearTimeout(this.#timer);
    this.#idToken = undefined;
    this.#refreshToken = undefined;
    this.#expiresAt = 0;
    this.#challenge = undefined;
    try {
      this.#storage?.removeItem(AUTH_STORAGE_KEY);
    } catch {
      // Storage may be unavailable; nothing was kept then.
    }
    if (was) this.dispatchEvent(new CustomEvent('openclaw-signed-out'));
  }

  /** One refresh at a time: concurrent callers share it. A refused refresh token signs the user out. */
  #refresh(): Promise<string | undefined> {
    this.#refreshing ??= (async () => {
      try {
        const answer = await cognitoCall<InitiateAuthResponse>(this.#config, 'InitiateAuth', {
          AuthFlow: 'REFRESH_TOKEN_AUTH',
          ClientId: this.#config.clientId,
          AuthParameters: { REFRESH_TOKEN: this.#refreshToken },
        });
        if (!answer.AuthenticationResult)
          throw new AuthError('NoTokens', 'The sign-in service sent no tokens.');
        const wasSignedIn = this.#idToken !== undefined;
        this.#keep(answer.AuthenticationResult);
        if (!wasSignedIn) this.#announceSignedIn();
        return this.#idToken;
      } catch (error) {
        if (error instanceof AuthError && error.code !== 'NetworkError') this.signOut();
        throw error;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  #afterAuth(answer: InitiateAuthResponse, username: string): SignInResult {
    if (answer.ChallengeName === 'NEW_PASSWORD_REQUIRED' && answer.Session) {
      this.#challenge = { session: answer.Session, username };
      return { challenge: 'NEW_PASSWORD_REQUIRED' };
    }
    if (!answer.AuthenticationResult) {
      throw new AuthError(
        answer.ChallengeName ?? 'NoTokens',
        answer.ChallengeName
          ? `This sign-in needs a step this page does not support (${answer.ChallengeName}).`
          : 'The sign-in service sent no tokens.',
      );
    }
    this.#challenge = undefined;
    this.#username = username;
    this.#keep(answer.AuthenticationResult);
    this.#announceSignedIn();
    return { signedIn: true };
  }

  #keep(result: AuthenticationResult): void {
    this.#idToken = result.IdToken;
    this.#expiresAt = this.#now() + result.ExpiresIn * 1000;
    if (result.RefreshToken) {
      this.#refreshToken = result.RefreshToken;
      try {
        this.#storage?.setItem(
          AUTH_STORAGE_KEY,
          JSON.stringify({ refreshToken: result.RefreshToken, username: this.#username }),
        );
      } catch {
        // Private mode: the session lasts as long as the page.
      }
    }
    clearTimeout(this.#timer);
    if (this.#refreshToken) {
      this.#timer = setTimeout(
        () => void this.#refresh().catch(() => undefined),
        refreshDelayMs(result.ExpiresIn, this.#marginMs),
      );
    }
  }

  #announceSignedIn(): void {
    this.dispatchEvent(new CustomEvent('openclaw-signed-in', { detail: { username: this.#username } }));
  }

  #readStorage(): { refreshToken: string; username?: string } | undefined {
    try {
      const raw = this.#storage?.getItem(AUTH_STORAGE_KEY);
      const parsed = raw ? (JSON.parse(raw) as { refreshToken?: unknown; username?: unknown }) : undefined;
      if (typeof parsed?.refreshToken !== 'string') return undefined;
      return {
        refreshToken: parsed.refreshToken,
        ...(typeof parsed.username === 'string' ? { username: parsed.username } : {}),
      };
    } catch {
      return undefined;
    }
  }
}
