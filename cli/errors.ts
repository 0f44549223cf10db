/**
 * The CLI's error family: every error a person can act on becomes ONE line that names the cause and the fix, with
 * the exit code the CLI table gives it (2 for usage and configuration). `explainError` turns the SDKs' and the file
 * system's errors into such lines; anything it does not recognise keeps its message and gets a `--debug` hint.
 */
import { scrub } from '../shared/log.ts';

/** An error the CLI reports as one line and exits with `exitCode`. */
export class CliError extends Error {
  public readonly exitCode: number;
  public constructor(message: string, options?: ErrorOptions & { exitCode?: number }) {
    super(message, options);
    this.name = 'CliError';
    this.exitCode = options?.exitCode ?? 2;
  }
}

/** The command line itself is wrong (unknown flag, missing argument, bad value): exit 2 and point at `--help`. */
export class UsageError extends CliError {
  public readonly command: string | undefined;
  public constructor(message: string, command?: string, options?: ErrorOptions) {
    super(message, { ...options, exitCode: 2 });
    this.name = 'UsageError';
    this.command = command;
  }
}

/** Where a remote call went, so an error line can say which setting to fix. */
export type RemoteContext = {
  service: 'OSS' | 'Function Compute';
  endpoint: string;
  bucket?: string;
  /** How the credentials were given: names the variables or the state file to check. */
  credentialsFrom: string;
  /** How to fix an endpoint nobody answers at (a flag to check, or `algolib dev` to start). */
  endpointFix: string;
  /** How to fix a bucket that does not exist. */
  bucketFix: string;
};

// Secrets the process knows (credentials, webhook secrets): masked in anything printed, even a --debug stack.
const knownSecrets = new Set<string>();

/** Registers a value that must never be printed. */
export const rememberSecret = (value: string | undefined): void => {
  if (value) knownSecrets.add(value);
};

/** `text` with every known secret (and every `Secret=`/`Signature=` parameter) masked. */
export const redact = (text: string): string => scrub(text, [...knownSecrets]);

type ForeignError = {
  code?: unknown;
  name?: unknown;
  status?: unknown;
  message?: unknown;
  syscall?: unknown;
  path?: unknown;
};

const fieldsOf = (error: unknown): ForeignError =>
  typeof error === 'object' && error !== null ? (error as ForeignError) : {};

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

const NETWORK_CODE =
  /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPROTO|CERT_[A-Z_]+)\b/;

/** The network error code in an SDK error (ali-oss keeps it only in the message). */
const networkCodeOf = (error: ForeignError): string | undefined => {
  const code = text(error.code);
  if (NETWORK_CODE.test(code)) return code;
  if (/Timeout/.test(text(error.name)) || /Timeout/.test(code)) return 'timeout';
  return NETWORK_CODE.exec(text(error.message))?.[1];
};

/** The service's own error code: ali-oss puts it in `code`; fc2 in `code` too, with `FC<code>Error` as the name. */
const serviceCodeOf = (error: ForeignError): string =>
  text(error.code) || text(error.name).replace(/^FC(.+)Error$/, '$1');

// The codes OSS and FC answer for bad, expired or insufficient credentials (403 in both services).
const CREDENTIAL_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'SignatureNotMatch',
  'InvalidSecurityToken',
  'SecurityTokenExpired',
  'AccessDenied',
  'RequestTimeTooSkewed',
]);

const credentialFix = (code: string, context: RemoteContext): string => {
  switch (code) {
    case 'InvalidAccessKeyId':
      return `the AccessKey ID is unknown: check ${context.credentialsFrom}`;
    case 'SignatureDoesNotMatch':
    case 'SignatureNotMatch':
      return `the AccessKey secret does not belong to the AccessKey ID: check ${context.credentialsFrom}`;
    case 'InvalidSecurityToken':
    case 'SecurityTokenExpired':
      return `the STS token is invalid or expired: get fresh STS credentials into ${context.credentialsFrom}`;
    case 'RequestTimeTooSkewed':
      return "the request time is too far from the server's: set this machine's clock right (NTP)";
    default:
      return `the credentials from ${context.credentialsFrom} may not do this${context.bucket ? ` in bucket ${context.bucket}` : ''}: check the RAM policy of the key (or role)`;
  }
};

/**
 * One actionable line for an error of a remote call (OSS through ali-oss, FC through fc2), or `undefined` when the
 * error is not one of the known kinds.
 *
 * @example
 * ```ts
 * explainRemoteError(error, { service: 'OSS', endpoint, bucket, credentialsFrom: '…', endpointFix: 'check --endpoint', bucketFix: 'check --bucket' });
 * // CliError: OSS at http://127.0.0.1:1 refused the connection (ECONNREFUSED): check --endpoint
 * ```
 */
export const explainRemoteError = (error: unknown, context: RemoteContext): CliError | undefined => {
  const fields = fieldsOf(error);
  const where = `${context.service} at ${context.endpoint}`;
  const network = networkCodeOf(fields);
  if (network === 'ECONNREFUSED') {
    return new CliError(`${where} refused the connection (ECONNREFUSED): ${context.endpointFix}`, { cause: error });
  }
  if (network === 'ENOTFOUND' || network === 'EAI_AGAIN') {
    return new CliError(`Cannot resolve the host of ${where} (${network}): ${context.endpointFix}`, { cause: error });
  }
  if (network) {
    return new CliError(`Cannot reach ${where} (${network}): ${context.endpointFix}`, { cause: error });
  }
  const code = serviceCodeOf(fields);
  const status = typeof fields.status === 'number' ? fields.status : undefined;
  if (code === 'NoSuchBucket') {
    return new CliError(
      `Bucket ${context.bucket ?? '(unknown)'} does not exist at ${context.endpoint} (NoSuchBucket): ${context.bucketFix}`,
      { cause: error },
    );
  }
  if (status === 403 || CREDENTIAL_CODES.has(code)) {
    return new CliError(
      `${context.service} refused the request (403 ${code || 'Forbidden'}): ${credentialFix(code, context)}`,
      { cause: error },
    );
  }
  return undefined;
};

/** One line for a file the CLI could not read; `what` says which argument named it ("package file", "manifest"). */
export const explainFileError = (error: unknown, file: string, what: string): CliError => {
  const code = text(fieldsOf(error).code);
  if (code === 'ENOENT')
    return new CliError(
      `Cannot read the ${what} ${file}: it does not exist (check the path; it is relative to ${process.cwd()})`,
      { cause: error },
    );
  if (code === 'EISDIR')
    return new CliError(`Cannot read the ${what} ${file}: it is a directory, expected a file`, { cause: error });
  if (code === 'EACCES' || code === 'EPERM')
    return new CliError(`Cannot read the ${what} ${file}: permission denied (check the file's mode)`, { cause: error });
  return new CliError(`Cannot read the ${what} ${file}: ${text(fieldsOf(error).message) || code}`, { cause: error });
};

/** The line to print for any error: its own message for a `CliError`, else the error's first line, redacted. */
export const messageOf = (error: unknown): string => {
  if (error instanceof Error) return redact(error.message.split('\n')[0] ?? error.name);
  return redact(String(error));
};

/** The full story for `--debug`: the stack and every cause, redacted. */
export const debugTextOf = (error: unknown): string => {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth += 1) {
    lines.push(
      depth === 0 ? '' : 'Caused by:',
      current instanceof Error ? (current.stack ?? current.message) : String(current),
    );
    current = current instanceof Error ? current.cause : undefined;
  }
  return redact(lines.filter(Boolean).join('\n'));
};
