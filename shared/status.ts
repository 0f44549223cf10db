/**
 * Status document v1: the one answer a publisher reads (`status/<package key without .tar.gz>.json`).
 * The shape is a contract (docs/contracts.md "Status document v1"); fields are added, never renamed.
 */

/** Every state a status document can be in; the config's state lists (`WEBHOOK_STATES`, robots) are checked by it. */
export const REGISTRATION_STATES = ['PENDING', 'REGISTERED', 'REJECTED', 'CONFLICT', 'FAILED'] as const;

export type RegistrationState = (typeof REGISTRATION_STATES)[number];

export const TERMINAL_STATES: readonly RegistrationState[] = REGISTRATION_STATES.filter((state) => state !== 'PENDING');

export type StatusErrorCode =
  | 'MANIFEST_INVALID'
  | 'MANIFEST_TOO_LARGE'
  | 'PACKAGE_SIZE_MISMATCH'
  | 'PACKAGE_CHECKSUM_MISMATCH'
  | 'NAME_CONFLICT'
  // Transient failures that outlasted the invocation (FAILED), and CityVisual's own codes as returned.
  | (string & {});

export type StatusError = { code: StatusErrorCode; message: string; path?: string };

/** One endpoint's delivery of this status: a Standard Webhook, or a chat robot's message. */
export type NotificationRecord = {
  /** Absent on records written before chat robots: a Standard Webhook. */
  kind?: 'webhook' | 'dingtalk' | 'wecom' | 'lark';
  /** Host (and port) of the endpoint; never the full URL, which may carry a token. */
  endpoint: string;
  webhookId: string;
  type: string;
  delivered: boolean;
  attempts: number;
  lastStatus?: number;
  lastError?: string;
  at: string;
};

export type StatusDocument = {
  schemaVersion: 1;
  state: RegistrationState;
  waitingFor?: 'package' | 'manifest';
  name?: string;
  version?: string;
  algoLibId?: string;
  created?: boolean;
  /** REGISTERED only: what this upload did to the library. */
  change?: 'created' | 'updated' | 'unchanged';
  /** `change: "updated"` only: the version the library had before. */
  previous?: { version: string; packageKey: string };
  package: { bucket: string; key: string; size?: number; crc64?: string; etag?: string };
  /** `sha256`: the digest of the manifest's content (tells an identical re-publish from a changed one). */
  manifest: { key: string; etag?: string; sha256?: string };
  errors: StatusError[];
  notifications?: NotificationRecord[];
  updatedAt: string;
};

export const isTerminal = (state: RegistrationState): boolean => TERMINAL_STATES.includes(state);
