/**
 * Why a skill upload (or a stored skill the agent re-checks) was refused. `code` is stable for programs,
 * `message` says what to change, and `statusCode` is the HTTP status the management API answers with:
 * 400 malformed, 413 over a size limit, 415 wrong media type, 422 well-formed but breaking a skill rule.
 */
export class SkillPackageError extends Error {
  readonly code: string;
  readonly statusCode: 400 | 413 | 415 | 422;

  constructor(statusCode: 400 | 413 | 415 | 422, code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SkillPackageError';
    this.code = code;
    this.statusCode = statusCode;
  }
}
