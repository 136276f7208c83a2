/*
 * The two calls of the Cognito user-pool JSON API the sign-in needs. The local issuer of `npm start`
 * speaks the same protocol, so one code path signs in locally and on AWS.
 */

/** The tokens of a successful `InitiateAuth` or `RespondToAuthChallenge`. */
export interface AuthenticationResult {
  IdToken: string;
  AccessToken?: string;
  /** Absent from a refresh answer: the refresh token stays the same. */
  RefreshToken?: string;
  /** Seconds until the id token expires. */
  ExpiresIn: number;
  TokenType?: string;
}

/** What `InitiateAuth` answers: tokens, or a challenge to complete first. */
export interface InitiateAuthResponse {
  AuthenticationResult?: AuthenticationResult;
  ChallengeName?: string;
  Session?: string;
}

/**
 * A refusal by the issuer (`code` is Cognito's `__type`, such as `NotAuthorizedException`) or a failure
 * to reach it (`code` `NetworkError`). `message` may be shown to the user.
 */
export class AuthError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AuthError';
    this.code = code;
  }
}

/** Where to sign in: the user-pool endpoint and the app client id. */
export interface CognitoConfig {
  /** `https://cognito-idp.<region>.amazonaws.com/` on AWS; a path on the local server locally. */
  endpoint: string;
  clientId: string;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
}

/**
 * Calls one `AWSCognitoIdentityProviderService` operation.
 * @throws AuthError with the issuer's `__type` and message, or `NetworkError` when it cannot be reached
 */
export async function cognitoCall<T>(config: CognitoConfig, operation: string, body: object): Promise<T> {
  const doFetch = config.fetch ?? globalThis.fetch.bind(globalThis);
  let response: Response;
  try {
    response = await doFetch(config.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
      },
      body: JSON.stringify(body),
    });
  } catch (cause) {
    throw new AuthError('NetworkError', 'Could not reach the sign-in service. Try again.', { cause });
  }
  const answer = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    // Cognito's __type may carry a prefix ("...#NotAuthorizedException").
    const type =
      String(answer.__type ?? `Http${response.status}`)
        .split('#')
        .pop() ?? 'Error';
    const message = typeof answer.message === 'string' ? answer.message : 'Sign-in failed.';
    throw new AuthError(type, message);
  }
  return answer as T;
}
