import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@aws-lambda-powertools/logger';
import { z } from 'zod';
import type { TokenMinter } from './tokens.ts';
import { type LocalUser, localUserId, secretsEqual } from './users.ts';

/** The one Cognito operation the local issuer speaks, as the AWS JSON protocol names it. */
export const INITIATE_AUTH_TARGET = 'AWSCognitoIdentityProviderService.InitiateAuth';

export interface CognitoEndpointOptions {
  users: readonly LocalUser[];
  minter: TokenMinter;
  /** The app client id requests must name. */
  clientId: string;
  logger: Logger;
  /** Each wrong password is answered only after this long, to slow guessing. @default 500 */
  failureDelayMs?: number;
  /** Wrong passwords for one user name within `lockoutWindowMs` before it is locked until the window ends. @default 5 */
  maxFailures?: number;
  /** @default 900000 (15 minutes) */
  lockoutWindowMs?: number;
  /** Request bodies above this are refused with 413. @default 16384 */
  maxBodyBytes?: number;
  /** @default Date.now */
  now?: () => number;
}

const RequestSchema = z.object({
  AuthFlow: z.string().min(1).max(64),
  ClientId: z.string().min(1).max(128),
  AuthParameters: z.record(z.string(), z.string().max(8192)).default({}),
});

/** An error as Cognito sends it: HTTP 400, `x-amzn-ErrorType`, and `{ __type, message }`. */
class CognitoError extends Error {
  readonly type: string;
  readonly status: number;
  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = 'CognitoError';
    this.type = type;
    this.status = status;
  }
}

const WRONG_CREDENTIALS = 'Incorrect username or password.';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      throw new CognitoError('InvalidParameterException', `Request body is larger than ${limit} bytes.`, 413);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The local issuer's sign-in endpoint. It speaks Cognito's user-pool JSON protocol (`X-Amz-Target:
 * AWSCognitoIdentityProviderService.InitiateAuth`, `application/x-amz-json-1.1`), so the browser's sign-in
 * element talks to it and to `https://cognito-idp.<region>.amazonaws.com/` alike. Flows: USER_PASSWORD_AUTH
 * and REFRESH_TOKEN_AUTH; anything else is a 400 that says so. Passwords are compared in constant time,
 * wrong ones are delayed and counted per user name, and neither passwords nor tokens are logged.
 */
export function createCognitoEndpoint(options: CognitoEndpointOptions) {
  const { users, minter, clientId, logger } = options;
  const failureDelayMs = options.failureDelayMs ?? 500;
  const maxFailures = options.maxFailures ?? 5;
  const lockoutWindowMs = options.lockoutWindowMs ?? 15 * 60_000;
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024;
  const now = options.now ?? Date.now;
  // Wrong passwords per user name (known or not, so probing names is slowed too); bounded, oldest first out.
  const failures = new Map<string, { count: number; since: number }>();

  function failuresOf(username: string) {
    const entry = failures.get(username);
    if (entry && now() - entry.since < lockoutWindowMs) return entry;
    failures.delete(username);
    return undefined;
  }

  function recordFailure(username: string) {
    const entry = failuresOf(username) ?? { count: 0, since: now() };
    entry.count += 1;
    failures.delete(username);
    failures.set(username, entry);
    if (failures.size > 10_000) failures.delete(failures.keys().next().value as string);
  }

  async function passwordAuth(parameters: Record<string, string>) {
    const username = parameters.USERNAME;
    const password = parameters.PASSWORD;
    if (!username) throw new CognitoError('InvalidParameterException', 'Missing required parameter USERNAME');
    if (!password) throw new CognitoError('InvalidParameterException', 'Missing required parameter PASSWORD');
    if ((failuresOf(username)?.count ?? 0) >= maxFailures) {
      logger.warn('sign-in refused: too many wrong passwords', { username });
      throw new CognitoError('NotAuthorizedException', 'Password attempts exceeded');
    }
    const user = users.find((candidate) => candidate.username === username);
    // Compare against something even for an unknown name, so timing does not tell names apart.
    const matches = secretsEqual(password, user?.password ?? '\u0000no such user');
    if (!user || !matches) {
      recordFailure(username);
      logger.warn('sign-in refused', { username, reason: user ? 'wrong password' : 'unknown user' });
      await sleep(failureDelayMs);
      throw new CognitoError('NotAuthorizedException', WRONG_CREDENTIALS);
    }
    failures.delete(username);
    logger.info('signed in', { username });
    return minter.issue({ sub: localUserId(username), username, authTime: Math.floor(now() / 1000) });
  }

  function refreshAuth(parameters: Record<string, string>) {
    const token = parameters.REFRESH_TOKEN;
    if (!token)
      throw new CognitoError('InvalidParameterException', 'Missing required parameter REFRESH_TOKEN');
    const claims = minter.readRefreshToken(token);
    // A user removed from LOCAL_USERS since keeps no access through an old refresh token.
    const user = claims && users.find((candidate) => localUserId(candidate.username) === claims.sub);
    if (!claims || !user) {
      logger.warn('refresh refused: refresh token not valid');
      throw new CognitoError('NotAuthorizedException', 'Invalid Refresh Token');
    }
    return minter.issue(claims, false);
  }

  async function answer(request: IncomingMessage) {
    const target = request.headers['x-amz-target'];
    if (target !== INITIATE_AUTH_TARGET) {
      throw new CognitoError(
        'UnknownOperationException',
        `The local issuer implements only ${INITIATE_AUTH_TARGET} (USER_PASSWORD_AUTH, REFRESH_TOKEN_AUTH).`,
      );
    }
    const contentType = request.headers['content-type'] ?? '';
    if (!/^application\/x-amz-json-1\.[01]\s*(;|$)/i.test(contentType)) {
      throw new CognitoError('SerializationException', 'Send Content-Type: application/x-amz-json-1.1');
    }
    let json: unknown;
    try {
      json = JSON.parse(await readBody(request, maxBodyBytes));
    } catch (error) {
      if (error instanceof CognitoError) throw error;
      throw new CognitoError('SerializationException', 'The request body is not valid JSON.');
    }
    const parsed = RequestSchema.safeParse(json);
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join('.') || 'body';
      throw new CognitoError('InvalidParameterException', `Invalid or missing parameter: ${field}`);
    }
    const { AuthFlow, ClientId, AuthParameters } = parsed.data;
    if (ClientId !== clientId) {
      throw new CognitoError(
        'ResourceNotFoundException',
        `User pool client ${ClientId.slice(0, 64)} does not exist.`,
      );
    }
    if (AuthFlow === 'USER_PASSWORD_AUTH') return passwordAuth(AuthParameters);
    if (AuthFlow === 'REFRESH_TOKEN_AUTH' || AuthFlow === 'REFRESH_TOKEN') return refreshAuth(AuthParameters);
    throw new CognitoError(
      'InvalidParameterException',
      `${AuthFlow.slice(0, 64)} is not supported by the local issuer: use USER_PASSWORD_AUTH or REFRESH_TOKEN_AUTH.`,
    );
  }

  return async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const headers = { 'content-type': 'application/x-amz-json-1.1', 'cache-control': 'no-store' };
    try {
      const AuthenticationResult = await answer(request);
      response.writeHead(200, headers).end(JSON.stringify({ AuthenticationResult, ChallengeParameters: {} }));
    } catch (error) {
      const known =
        error instanceof CognitoError
          ? error
          : new CognitoError('InternalErrorException', 'Sign-in failed.', 500);
      if (!(error instanceof CognitoError))
        logger.error('sign-in endpoint failed', { error: (error as Error).name });
      else if (known.type !== 'NotAuthorizedException')
        logger.warn('sign-in request refused', { type: known.type, message: known.message });
      // A body that is too large is not read to its end; close the connection rather than drain it.
      if (known.status === 413) response.setHeader('connection', 'close');
      response
        .writeHead(known.status, { ...headers, 'x-amzn-errortype': `${known.type}:` })
        .end(JSON.stringify({ __type: known.type, message: known.message }));
    }
  };
}
