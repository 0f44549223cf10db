/**
 * Structured JSON logs: one line per step that matters, with the FC request id, the object key and the outcome.
 * Every line passes through `scrub`, so a secret that reaches a message (an SDK error, a URL) is masked.
 */

export type LogFields = Record<string, unknown>;
export type Logger = {
  info(step: string, fields?: LogFields): void;
  warn(step: string, fields?: LogFields): void;
  error(step: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. the object key). */
  child(fields: LogFields): Logger;
};

const SECRET_PARAMETERS =
  /((?:OssAccessKeySecret|AccessKeySecret|SecurityToken|Signature|accessKeySecret|securityToken|stsToken)["']?\s*[=:]\s*["']?)[^&"'\s,}]+/g;

/**
 * Masks every known secret value and every `Secret=`/`Signature=`/`SecurityToken=` parameter in `text`.
 *
 * @example
 * ```ts
 * scrub('failed: OssAccessKeySecret=abc&x=1', ['abc']); // 'failed: OssAccessKeySecret=***&x=1'
 * ```
 */
export const scrub = (text: string, secrets: readonly string[]): string => {
  let out = text.replace(SECRET_PARAMETERS, '$1***');
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
};

export type LogSink = (line: string) => void;

/**
 * A JSON-lines logger. `secrets` is read at every line, so credentials that rotate are masked as soon as they exist.
 *
 * @example
 * ```ts
 * const log = createLogger({ requestId: context.requestId }, () => [config.cityVisual.oss.accessKeySecret]);
 * log.child({ key }).info('manifest.parsed', { outcome: 'ok' });
 * ```
 */
export const createLogger = (
  base: LogFields,
  secrets: () => readonly string[],
  sink: LogSink = (line) => process.stdout.write(`${line}\n`),
): Logger => {
  const write = (level: string, step: string, fields: LogFields = {}) => {
    const entry: LogFields = { time: new Date().toISOString(), level, ...base, step, ...fields };
    // Errors are fields, never nested deeper; converting them here spares JSON.stringify a replacer call per value.
    for (const key in fields) {
      const value = entry[key];
      if (value instanceof Error) entry[key] = { name: value.name, message: value.message };
    }
    sink(scrub(JSON.stringify(entry), secrets()));
  };
  return {
    info: (step, fields) => write('info', step, fields),
    warn: (step, fields) => write('warn', step, fields),
    error: (step, fields) => write('error', step, fields),
    child: (fields) => createLogger({ ...base, ...fields }, secrets, sink),
  };
};
