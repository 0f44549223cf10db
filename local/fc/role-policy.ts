/**
 * Whether a function's RAM role may deliver to its async `OnFailure` destination, as FC checks before it sends a
 * dead letter: FC delivers with the service's role, so the role needs the destination's send action
 * ("Result callbacks": MNS queue `mns:SendMessage`, MNS topic `mns:PublishMessage`, FC `fc:InvokeFunction`,
 * EventBridge `eventbridge:PutEvents`, RocketMQ `mq:PUB`; https://www.alibabacloud.com/help/en/fc/user-guide/result-callback).
 * The destination ARN is the RAM resource of that action (MNS: `acs:mns:$region:$accountid:/queues/$queueName/messages`
 * for SendMessage, https://www.alibabacloud.com/help/zh/mns/security-and-compliance/permission-policies-and-examples).
 *
 * A small RAM evaluator: `Allow`/`Deny` statements, `Action` and `Resource` strings or lists with `*` wildcards
 * (case-insensitive actions), an explicit Deny wins. Conditions are not modelled (a statement with one never
 * applies, chosen so that a conditional grant is not taken for an unconditional one).
 */

export type RamStatement = {
  Effect: 'Allow' | 'Deny' | string;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
};
export type RamPolicy = { Version?: string; Statement: RamStatement[] };

/** The RAM action FC needs to deliver to `destination`, or undefined for a destination kind it does not know. */
export const destinationAction = (destination: string): string | undefined => {
  const kind = /^acs:([a-z]+):/.exec(destination)?.[1];
  if (kind === 'mns') return destination.includes('/topics/') ? 'mns:PublishMessage' : 'mns:SendMessage';
  if (kind === 'fc') return 'fc:InvokeFunction';
  if (kind === 'eventbridge') return 'eventbridge:PutEvents';
  if (kind === 'mq') return 'mq:PUB';
  return undefined;
};

const wildcard = (pattern: string, caseless: boolean) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    caseless ? 'i' : '',
  );

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : [value].flat());

const applies = (statement: RamStatement, action: string, resource: string) =>
  statement.Condition === undefined &&
  list(statement.Action).some((pattern) => wildcard(pattern, true).test(action)) &&
  list(statement.Resource).some((pattern) => wildcard(pattern, false).test(resource));

/**
 * True when `policy` allows `action` on `resource` and no statement denies it.
 *
 * @example
 * ```ts
 * isAllowed(policy, 'mns:SendMessage', 'acs:mns:cn-shanghai:123:/queues/failed/messages');
 * ```
 */
export const isAllowed = (policy: RamPolicy, action: string, resource: string): boolean => {
  const matching = policy.Statement.filter((statement) => applies(statement, action, resource));
  return matching.some((s) => s.Effect === 'Allow') && !matching.some((s) => s.Effect === 'Deny');
};
