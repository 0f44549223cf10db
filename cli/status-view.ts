/**
 * Status documents for people: the outcome line of `publish --wait`/`replay --wait`, the full view of
 * `algolib status`, and the exit code each state means (CLI table: 0 REGISTERED, 1 REJECTED/CONFLICT/FAILED).
 */
import type { StatusDocument, StatusError } from '../shared/status.ts';
import type { Output } from './output.ts';
import { formatBytes } from './output.ts';

type Colors = Output['colors'];

/** 0 for REGISTERED, 1 for the other terminal states; PENDING is not an outcome (the caller decides: timeout → 3). */
export const exitCodeOf = (status: StatusDocument): number => (status.state === 'REGISTERED' ? 0 : 1);

const nameOf = (status: StatusDocument): string =>
  status.name ? `${status.name}${status.version ? `@${status.version}` : ''}` : status.package.key;

const errorLine = (error: StatusError): string =>
  `${error.code}${error.path ? ` at ${error.path}` : ''}: ${error.message}`;

const stateColor = (colors: Colors, status: StatusDocument): string => {
  if (status.state === 'REGISTERED') return colors.green(status.state);
  if (status.state === 'PENDING') return colors.yellow(status.state);
  return colors.red(status.state);
};

/**
 * A manifest's errors before anything was uploaded, one per line with its JSON path (`validate`, `publish`).
 *
 * @example
 * ```ts
 * invalidManifestLines('face.manifest.json', errors, colors); // ['invalid face.manifest.json: 1 error', '  capacity: Expected …']
 * ```
 */
export const invalidManifestLines = (file: string, errors: StatusError[], colors: Colors, note = ''): string[] => [
  `${colors.red('invalid')} ${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}${note}`,
  ...errors.map((error) => `  ${error.path ?? '(manifest)'}: ${error.message}`),
];

/**
 * What a REGISTERED upload did, in words: from `change` (and `previous`) when the function wrote them, else from
 * `created` as before.
 */
const registeredLine = (status: StatusDocument, colors: Colors): string => {
  const id = `AlgoLibId ${colors.bold(status.algoLibId ?? '?')}`;
  switch (status.change) {
    case 'created':
      return `${colors.green('registered')} ${colors.bold(nameOf(status))}: ${id} (created)`;
    case 'updated':
      return `${colors.green('updated')} ${colors.bold(status.name ?? status.package.key)} ${
        status.previous ? `${status.previous.version} → ` : ''
      }${status.version ?? '?'}: ${id}`;
    case 'unchanged':
      return `${colors.green('already registered, unchanged')}: ${colors.bold(nameOf(status))}, ${id} (nothing to do)`;
    default:
      return `${colors.green('registered')} ${colors.bold(nameOf(status))}: ${id} ${
        status.created === false ? '(already registered: an identical library existed)' : '(created)'
      }`;
  }
};

/**
 * The answer of a wait in a few lines: the AlgoLibId (and whether it was created), or every error with its code and path.
 *
 * @example
 * ```ts
 * outcomeLines(status, colors); // ['registered face-detector@1.0.0: AlgoLibId 1 (created)']
 * ```
 */
export const outcomeLines = (status: StatusDocument, colors: Colors): string[] => {
  const name = colors.bold(nameOf(status));
  switch (status.state) {
    case 'REGISTERED':
      return [registeredLine(status, colors)];
    case 'PENDING':
      return [`${colors.yellow('pending')} ${name}: waiting for the ${status.waitingFor ?? 'registration'}`];
    default:
      return [
        `${colors.red(status.state.toLowerCase())} ${name}: ${status.errors.length} error${status.errors.length === 1 ? '' : 's'}`,
        ...status.errors.map((error) => `  ${errorLine(error)}`),
        ...(status.state === 'FAILED'
          ? ['  FC retries the event; `algolib replay` re-runs it once the cause is fixed.']
          : []),
      ];
  }
};

/**
 * Every field of a status document worth reading, one per line (`algolib status`).
 *
 * @example
 * ```ts
 * for (const line of statusLines(status, 'status/library/face/face-1.2.0.json', colors)) console.log(line);
 * ```
 */
export const statusLines = (status: StatusDocument, statusKey: string, colors: Colors): string[] => {
  const row = (label: string, value: string) => `  ${colors.dim(label.padEnd(15))}${value}`;
  const pkg = status.package;
  const facts = [pkg.size === undefined ? undefined : formatBytes(pkg.size), pkg.crc64 && `crc64 ${pkg.crc64}`].filter(
    Boolean,
  );
  const lines = [
    `${stateColor(colors, status)} ${colors.bold(nameOf(status))}${status.waitingFor ? ` (waiting for the ${status.waitingFor})` : ''}`,
  ];
  if (status.algoLibId)
    lines.push(
      row(
        'AlgoLibId',
        `${status.algoLibId}${status.created === false ? ' (existed already)' : status.created ? ' (created)' : ''}`,
      ),
    );
  if (status.change === 'updated' && status.previous)
    lines.push(
      row(
        'change',
        `updated from ${status.previous.version} (oss://${status.package.bucket}/${status.previous.packageKey})`,
      ),
    );
  else if (status.change)
    lines.push(row('change', status.change === 'unchanged' ? 'unchanged (already registered)' : status.change));
  lines.push(
    row('package', `oss://${pkg.bucket}/${pkg.key}${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`),
    row('manifest', `oss://${pkg.bucket}/${status.manifest.key}`),
    row('status', `oss://${pkg.bucket}/${statusKey}`),
    row('updated', status.updatedAt),
  );
  if (status.errors.length > 0) {
    lines.push(row('errors', ''), ...status.errors.map((error) => `    ${errorLine(error)}`));
  }
  for (const [index, notification] of (status.notifications ?? []).entries()) {
    const outcome = notification.delivered
      ? colors.green('delivered')
      : colors.red(
          `not delivered${notification.lastStatus ? ` (HTTP ${notification.lastStatus})` : notification.lastError ? ` (${notification.lastError})` : ''}`,
        );
    lines.push(
      row(
        index === 0 ? 'notifications' : '',
        `${notification.type} to ${notification.endpoint}: ${outcome} after ${notification.attempts} attempt${notification.attempts === 1 ? '' : 's'} (webhook-id ${notification.webhookId})`,
      ),
    );
  }
  return lines;
};
