import { describe, expect, it } from 'vitest';
import { destinationAction, isAllowed, type RamPolicy } from '../../local/fc/role-policy.ts';

const QUEUE = 'acs:mns:cn-shanghai:1234567890123456:/queues/algolib-failed/messages';

describe('role-policy (the FC emulator checking a dead letter can be delivered)', () => {
  it('names the action FC needs for each destination kind', () => {
    // Assert
    expect(destinationAction(QUEUE)).toBe('mns:SendMessage');
    expect(destinationAction('acs:mns:cn-shanghai:1:/topics/t/messages')).toBe('mns:PublishMessage');
    expect(destinationAction('acs:fc:cn-shanghai:1:services/s/functions/f')).toBe('fc:InvokeFunction');
    expect(destinationAction('acs:eventbridge:cn-shanghai:1:eventbus/default')).toBe('eventbridge:PutEvents');
    expect(destinationAction('acs:mq:cn-shanghai:1:/instances/i/topic/t')).toBe('mq:PUB');
    expect(destinationAction('https://example.com')).toBeUndefined();
  });

  it('allows by action and resource wildcards, and lets an explicit Deny or a Condition win', () => {
    // Arrange
    const allow: RamPolicy = {
      Statement: [{ Effect: 'Allow', Action: 'MNS:Send*', Resource: ['acs:mns:*:1234567890123456:/queues/*'] }],
    };
    const denied: RamPolicy = {
      Statement: [...allow.Statement, { Effect: 'Deny', Action: ['mns:*'], Resource: [QUEUE] }],
    };
    const conditional: RamPolicy = {
      Statement: [{ Effect: 'Allow', Action: ['mns:SendMessage'], Resource: ['*'], Condition: { IpAddress: {} } }],
    };

    // Assert
    expect(isAllowed(allow, 'mns:SendMessage', QUEUE)).toBe(true);
    expect(isAllowed(allow, 'mns:SendMessage', 'acs:mns:cn-shanghai:999:/queues/algolib-failed/messages')).toBe(false);
    expect(isAllowed(allow, 'mns:DeleteMessage', QUEUE)).toBe(false);
    expect(isAllowed(denied, 'mns:SendMessage', QUEUE)).toBe(false);
    expect(isAllowed(conditional, 'mns:SendMessage', QUEUE)).toBe(false);
  });
});
