/**
 * The one error family of the pipeline. Every error the code throws on purpose is a `PipelineError`; foreign errors
 * (SDKs, the file system) are wrapped with `{ cause }` and their messages scrubbed of secrets before they are logged.
 */
export class PipelineError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PipelineError';
  }
}

/** The environment does not describe a usable deployment; `variable` names the culprit. */
export class ConfigError extends PipelineError {
  public readonly variable: string;
  public constructor(variable: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** The event payload is not an FC OSS event nor a CloudEvents envelope of one. */
export class EventParseError extends PipelineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EventParseError';
  }
}

/**
 * A call to a remote service (OSS, CityVisual, a webhook, a chat robot) failed. `retryable` says whether trying again can help;
 * `code` is the service's own error code (`Throttling.User`, `FileAlreadyExists`, `ECONNRESET`, …).
 */
export class RemoteError extends PipelineError {
  public readonly service: 'oss' | 'cityvisual' | 'webhook' | 'chat-robot';
  public readonly code: string;
  public readonly retryable: boolean;
  public readonly httpStatus: number | undefined;
  /**
   * The deployment, not the package, is at fault (RAM permissions, credentials, signatures): the registration ends
   * `FAILED` and FC runs it again, so a fixed role makes the next run succeed. Retrying at once does not help.
   */
  public readonly deployment: boolean;
  public constructor(
    fields: {
      service: RemoteError['service'];
      code: string;
      retryable: boolean;
      httpStatus?: number | undefined;
      deployment?: boolean;
    },
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RemoteError';
    this.service = fields.service;
    this.code = fields.code;
    this.retryable = fields.retryable;
    this.httpStatus = fields.httpStatus;
    this.deployment = fields.deployment ?? false;
  }
}

/** The invocation ran out of time before the registration reached a terminal state; FC should run it again. */
export class DeadlineError extends PipelineError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'DeadlineError';
  }
}
