/**
 * The one error the emulator throws to answer a request: an HTTP status plus Alibaba's `Code` and `Message`.
 * The server turns it into `{RequestId, HostId, Code, Message, Recommend}`.
 */
export class RpcError extends Error {
  override name = 'RpcError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Alibaba's per-parameter convention (`MissingAccessKeyId`, `MissingAlgoLibName`, …) with the gateway's common message. */
export const missingParameter = (name: string): RpcError =>
  new RpcError(
    400,
    `Missing${name}`,
    `The input parameter "${name}" that is mandatory for processing this request is not supplied.`,
  );

/** A parameter whose value is not accepted, without a more specific documented code. */
export const invalidParameter = (name: string, expected: string): RpcError =>
  new RpcError(400, 'InvalidParameter', `The specified parameter "${name}" is not valid: expected ${expected}.`);

/** Reads a required parameter; an empty value counts as missing (our assumption: the docs do not say). */
export const required = (params: Record<string, string>, name: string): string => {
  const value = params[name];
  if (value === undefined || value === '') throw missingParameter(name);
  return value;
};
