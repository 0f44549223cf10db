import { describe, expect, it } from 'vitest';
import { loadConfig, REQUIRED_VARIABLES } from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';
import { TEST_ENV } from '../fakes/register-deps.ts';

const configError = (env: Record<string, string | undefined>) => {
  try {
    loadConfig(env);
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('Expected loadConfig to throw');
};

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    // Act
    const config = loadConfig(TEST_ENV);

    // Assert
    expect(config).toMatchObject({
      bucket: 'algolib-packages',
      statusBucket: 'algolib-packages',
      packagePrefix: 'library/',
      statusPrefix: 'status/',
      ossRegion: 'oss-cn-shanghai',
      cityVisual: { regionId: 'cn-shanghai', timeoutMs: 10_000 },
      webhooks: { endpoints: [], states: ['REGISTERED', 'REJECTED', 'CONFLICT', 'FAILED'] },
    });
  });

  it.each(REQUIRED_VARIABLES)('names %s when it is missing', (variable) => {
    // Arrange
    const env: Record<string, string | undefined> = { ...TEST_ENV, [variable]: undefined };

    // Act
    const error = configError(env);

    // Assert
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.variable).toBe(variable);
    expect(error.message).toBe(`Environment variable ${variable} is required`);
  });

  it.each([
    ['CITYVISUAL_ENDPOINT', 'cityvisual.cn-shanghai.aliyuncs.com'],
    ['PACKAGE_PREFIX', 'library'],
    ['CITYVISUAL_TIMEOUT_MS', 'soon'],
    ['WEBHOOK_ENDPOINTS', '{not json'],
    [
      'WEBHOOK_ENDPOINTS',
      JSON.stringify([{ url: 'http://hooks.example.com/x', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }]),
    ],
    ['WEBHOOK_ENDPOINTS', JSON.stringify([{ url: 'https://hooks.example.com/x', secrets: ['plain'] }])],
    ['WEBHOOK_STATES', 'DONE'],
  ])('names %s when it is malformed (%s)', (variable, value) => {
    // Act
    const error = configError({ ...TEST_ENV, [variable]: value });

    // Assert
    expect(error.variable).toBe(variable);
    expect(error.message).toMatch(new RegExp(`^Environment variable ${variable} `));
  });

  it('never echoes a secret value in its error', () => {
    // Arrange
    const secret = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=';
    const env = { ...TEST_ENV, WEBHOOK_ENDPOINTS: JSON.stringify([{ url: 'ftp://x', secrets: [secret] }]) };

    // Act
    const error = configError(env);

    // Assert
    expect(error.message).not.toContain(secret);
  });

  it('allows plain http webhooks only on loopback addresses', () => {
    // Arrange
    const endpoints = [{ url: 'http://127.0.0.1:8080/hook', secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'] }];

    // Act
    const config = loadConfig({ ...TEST_ENV, WEBHOOK_ENDPOINTS: JSON.stringify(endpoints) });

    // Assert
    expect(config.webhooks.endpoints).toEqual(endpoints);
  });

  describe('CHAT_ROBOTS', () => {
    const DINGTALK = 'https://oapi.dingtalk.com/robot/send?access_token=t0k3n-canary';

    it('reads robots of each kind on their official hosts, and CONSOLE_URL', () => {
      // Arrange
      const robots = [
        { kind: 'dingtalk', url: DINGTALK, secret: 'SECabc' },
        { kind: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', states: ['REJECTED'] },
        { kind: 'lark', url: 'https://open.larksuite.com/open-apis/bot/v2/hook/h', secret: 's' },
        { kind: 'lark', url: 'https://open.feishu.cn/open-apis/bot/v2/hook/h2' },
        { kind: 'dingtalk', url: 'http://127.0.0.1:9000/robot/send?access_token=local' },
      ];

      // Act
      const config = loadConfig({
        ...TEST_ENV,
        CHAT_ROBOTS: JSON.stringify(robots),
        CONSOLE_URL: 'https://console.example.com',
      });

      // Assert
      expect(config.chatRobots).toEqual(robots);
      expect(config.consoleUrl).toBe('https://console.example.com');
    });

    it('defaults to no robots and no console link', () => {
      // Act
      const config = loadConfig({ ...TEST_ENV, CONSOLE_URL: '' });

      // Assert
      expect(config.chatRobots).toEqual([]);
      expect(config.consoleUrl).toBeUndefined();
    });

    it.each([
      [
        'a host that is not the kind’s',
        [{ kind: 'dingtalk', url: 'https://hooks.example.com/robot/send?access_token=t0k3n-canary' }],
        'Environment variable CHAT_ROBOTS entry 0: expected the host of a dingtalk robot to be oapi.dingtalk.com (or a loopback address), got hooks.example.com',
      ],
      [
        'another kind’s host',
        [
          { kind: 'lark', url: 'https://open.feishu.cn/open-apis/bot/v2/hook/ok' },
          { kind: 'wecom', url: DINGTALK },
        ],
        'Environment variable CHAT_ROBOTS entry 1: expected the host of a wecom robot to be qyapi.weixin.qq.com (or a loopback address), got oapi.dingtalk.com',
      ],
      [
        'plain http off loopback',
        [{ kind: 'dingtalk', url: 'http://oapi.dingtalk.com/robot/send?access_token=t0k3n-canary' }],
        'Environment variable CHAT_ROBOTS entry 0: must use https://',
      ],
      [
        'a secret for WeCom, which signs nothing',
        [{ kind: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', secret: 't0k3n-canary' }],
        'Environment variable CHAT_ROBOTS entry 0: a wecom robot takes no secret (the key in its URL is the credential)',
      ],
    ])('refuses %s at start-up, without echoing the URL’s token', (_case, robots, message) => {
      // Act
      const error = configError({ ...TEST_ENV, CHAT_ROBOTS: JSON.stringify(robots) });

      // Assert
      expect(error.variable).toBe('CHAT_ROBOTS');
      expect(error.message).toBe(message);
      expect(error.message).not.toContain('t0k3n-canary');
    });

    it.each([
      ['not JSON', '{'],
      ['an unknown kind', JSON.stringify([{ kind: 'slack', url: DINGTALK }])],
      ['an unknown state', JSON.stringify([{ kind: 'dingtalk', url: DINGTALK, states: ['DONE'] }])],
      ['an unknown field', JSON.stringify([{ kind: 'dingtalk', url: DINGTALK, token: 'x' }])],
    ])('names CHAT_ROBOTS when it has %s', (_case, value) => {
      // Act / Assert
      expect(configError({ ...TEST_ENV, CHAT_ROBOTS: value }).variable).toBe('CHAT_ROBOTS');
    });

    it('names CONSOLE_URL when it is not an http(s) URL', () => {
      // Act / Assert
      expect(configError({ ...TEST_ENV, CONSOLE_URL: 'console.example.com' }).variable).toBe('CONSOLE_URL');
    });
  });
});
