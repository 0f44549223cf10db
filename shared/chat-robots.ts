/**
 * The chat-robot channel: DingTalk, WeCom (企业微信) and Lark/Feishu group robots ("custom robots"), each with its own
 * host, signing, message format, answer and rate limit, as each one documents them (docs/notifications.md lists what
 * was verified where):
 *
 * - DingTalk custom robot, "加签" (https://help.dingtalk.io/open/dingstart/customize-robot-security-settings):
 *   `sign` = urlEncode(base64(HmacSHA256(key = secret, message = timestamp + "\n" + secret))), `timestamp` in ms
 *   within one hour of DingTalk's clock, both as query parameters of the webhook URL. Answer `{errcode, errmsg}`.
 *   20 messages a minute per robot, then throttled for 10 minutes (DingTalk's custom-robot guide,
 *   https://open.dingtalk.com/document/group/custom-robot-access, as quoted in third-party copies).
 * - WeCom group robot (https://developer.work.weixin.qq.com/document/path/91770): the `key` in the URL is the only
 *   credential (no signing); `msgtype: markdown`, content at most 4096 bytes; 20 messages a minute per robot.
 *   Answer `{errcode, errmsg}`; 45009 is WeCom's "api freq out of limit".
 * - Lark/Feishu custom bot (https://open.feishu.cn/document/ukTMukTMukTM/ucTM5YjL3ETO24yNxkjN, also
 *   https://open.larkoffice.com/document/ukTMukTMukTM/ucTM5YjL3ETO24yNxkjN.md): `timestamp` (seconds, within one
 *   hour) and `sign` = base64(HmacSHA256(key = timestamp + "\n" + secret, message = empty)) in the JSON body;
 *   100 requests a minute and 5 a second per robot, 11232 when throttled; body at most 20 KB. Answer `{code, msg}`.
 *
 * Error codes the robots answer that their pages do not list (DingTalk 310000 and 130101/410100, Lark 19021/19024,
 * WeCom 93000) come from the robots' own `errmsg` texts as reported in public issue threads; the classification below
 * is right under either reading: an unknown non-zero code stops the delivery and is recorded with its code.
 */
import { createHash, createHmac } from 'node:crypto';
import { type ChatSummary, type ChatSummaryOptions, chatSummaryOf } from './chat-message.ts';
import { CHAT_ROBOT_HOSTS, type ChatRobot, type ChatRobotKind } from './config.ts';
import { type Attempt, type Channel, classifyHttpStatus, describeFailure } from './notifier.ts';
import type { RateLimit, RateWindow } from './rate-window.ts';
import { TERMINAL_STATES } from './status.ts';

export { CHAT_ROBOT_HOSTS };

/** The documented per-robot limits; slots are reserved against them before each send. */
export const ROBOT_LIMITS: Record<ChatRobotKind, readonly RateLimit[]> = {
  dingtalk: [{ max: 20, perMs: 60_000 }],
  wecom: [{ max: 20, perMs: 60_000 }],
  lark: [
    { max: 5, perMs: 1_000 },
    { max: 100, perMs: 60_000 },
  ],
};

/**
 * How long a robot that answered "rate limited" stays closed: DingTalk documents 10 minutes; WeCom counts per minute;
 * Lark documents no window, so one second (its shortest limit) and the retry policy's attempt cap bound the retries.
 */
export const RATE_LIMITED_FOR_MS: Record<ChatRobotKind, number> = { dingtalk: 600_000, wecom: 60_000, lark: 1_000 };

const NAMES: Record<ChatRobotKind, string> = { dingtalk: 'DingTalk', wecom: 'WeCom', lark: 'Lark' };
const WECOM_MAX_BYTES = 4096;
const MAX_ANSWER_CHARS = 4096;
const MAX_REMEMBERED = 1_000;

/**
 * DingTalk's "加签" signature, base64 (the caller URL-encodes it as a query parameter).
 *
 * @example
 * ```ts
 * signDingTalk('SEC…', Date.now()); // 'k0iNr…=' (base64 of 32 bytes)
 * ```
 */
export const signDingTalk = (secret: string, timestampMs: number): string =>
  createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');

/**
 * Lark's custom-bot signature: the HMAC key is `timestamp + "\n" + secret` and the message is empty.
 *
 * @example
 * ```ts
 * signLark('mySecret', 1599360473); // base64 of 32 bytes
 * ```
 */
export const signLark = (secret: string, timestampSeconds: number): string =>
  createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');

/**
 * What records and logs name a robot by: its host and a short digest of the full URL, so two robots on one host stay
 * apart while the token in the URL stays out of the status document.
 *
 * @example
 * ```ts
 * robotLabel('https://oapi.dingtalk.com/robot/send?access_token=…'); // 'oapi.dingtalk.com#3f2a9c1b'
 * ```
 */
export const robotLabel = (url: string): string => {
  const digest = createHash('sha256').update(url).digest('hex').slice(0, 8);
  try {
    return `${new URL(url).host}#${digest}`;
  } catch {
    return `(invalid url)#${digest}`;
  }
};

const markdownLines = (summary: ChatSummary, heading: string): string[] => [
  `${heading} ${summary.headline}`,
  ...(summary.details.length > 0 ? ['', ...summary.details.map((line) => `- ${line}`)] : []),
  '',
  `Status: \`${summary.statusKey}\``,
  ...(summary.link ? ['', `[${summary.link.label}](${summary.link.url})`] : []),
];

/** Cuts UTF-8 text to `maxBytes` without splitting a character. */
const fitBytes = (text: string, maxBytes: number): string => {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let cut = text.slice(0, maxBytes);
  while (Buffer.byteLength(`${cut}…`) > maxBytes) cut = cut.slice(0, -1);
  return `${cut}…`;
};

const LARK_TEMPLATES: Record<ChatSummary['tone'], string> = { good: 'green', bad: 'red', neutral: 'grey' };

/**
 * The JSON body for one robot: DingTalk `markdown`, WeCom `markdown`, Lark an `interactive` card; without signature.
 *
 * @example
 * ```ts
 * robotMessageOf('wecom', summary); // { msgtype: 'markdown', markdown: { content: '### algolib …' } }
 * ```
 */
export const robotMessageOf = (kind: ChatRobotKind, summary: ChatSummary): Record<string, unknown> => {
  switch (kind) {
    case 'dingtalk':
      return {
        msgtype: 'markdown',
        markdown: { title: summary.title, text: markdownLines(summary, '#### algolib ·').join('\n') },
      };
    case 'wecom':
      return {
        msgtype: 'markdown',
        markdown: { content: fitBytes(markdownLines(summary, '### algolib ·').join('\n'), WECOM_MAX_BYTES) },
      };
    case 'lark': {
      const body = markdownLines(summary, '').slice(1).join('\n').trim();
      return {
        msg_type: 'interactive',
        card: {
          header: { title: { tag: 'plain_text', content: summary.title }, template: LARK_TEMPLATES[summary.tone] },
          elements: [{ tag: 'div', text: { tag: 'lark_md', content: body } }],
        },
      };
    }
  }
};

/**
 * The URL and body of one attempt, signed with the attempt's own timestamp when the robot has a secret.
 *
 * @example
 * ```ts
 * const { url, body } = robotRequestOf(robot, robotMessageOf(robot.kind, summary), Date.now());
 * ```
 */
export const robotRequestOf = (
  robot: ChatRobot,
  message: Record<string, unknown>,
  nowMs: number,
): { url: string; body: string } => {
  if (robot.kind === 'dingtalk' && robot.secret) {
    const url = new URL(robot.url);
    url.searchParams.set('timestamp', String(nowMs));
    // URLSearchParams form-encodes, which is the urlEncode step of DingTalk's algorithm (+ / = escaped).
    url.searchParams.set('sign', signDingTalk(robot.secret, nowMs));
    return { url: url.toString(), body: JSON.stringify(message) };
  }
  if (robot.kind === 'lark' && robot.secret) {
    const timestamp = Math.floor(nowMs / 1000);
    const signed = { timestamp: String(timestamp), sign: signLark(robot.secret, timestamp), ...message };
    return { url: robot.url, body: JSON.stringify(signed) };
  }
  return { url: robot.url, body: JSON.stringify(message) };
};

/** What fixes a refused message, by the robot's code; said in the record and the log line. */
const fixFor = (kind: ChatRobotKind, code: number, text: string): string | undefined => {
  const name = NAMES[kind];
  if (kind === 'dingtalk' && code === 310000) {
    if (/keyword/i.test(text)) {
      return `the robot requires a keyword: add "algolib" to its custom keywords, or switch its security setting to 加签 and put the SEC… secret in CHAT_ROBOTS`;
    }
    if (/ip/i.test(text) && !/sign|timestamp/i.test(text)) {
      return `the robot accepts only whitelisted IP addresses: add the function's egress IP, or use 加签 instead`;
    }
    return `the robot's 加签 secret does not match: copy the SEC… secret from the robot's security settings into CHAT_ROBOTS (and check the function's clock is within an hour)`;
  }
  if (kind === 'lark' && code === 19021) {
    return `the robot's signature secret does not match: copy the secret from the robot's 签名校验 setting into CHAT_ROBOTS (and check the clock is within an hour)`;
  }
  if (kind === 'lark' && code === 19024) {
    return `the robot requires a keyword: add "algolib" to its custom keywords`;
  }
  if (kind === 'lark' && code === 19022) {
    return `the robot accepts only whitelisted IP addresses: add the function's egress IP`;
  }
  if (kind === 'wecom' && code === 93000) {
    return `the key in the robot's URL is not valid: copy the robot's webhook URL again into CHAT_ROBOTS`;
  }
  if (code === 400101 || code === 300001 || code === 400102 || code === 400106) {
    return `the ${name} robot's access_token is not valid or the robot was removed: copy its webhook URL again`;
  }
  return undefined;
};

/** Whether the robot's code says "too many messages": retried after the documented window. */
const isRateLimited = (kind: ChatRobotKind, code: number): boolean =>
  (kind === 'dingtalk' && (code === 130101 || code === 410100)) ||
  (kind === 'wecom' && code === 45009) ||
  (kind === 'lark' && code === 11232);

/** The robot's own message, on one line, without the documentation links some of them append. */
const cleanMessage = (text: unknown): string =>
  String(text ?? '')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)\]>"']+/gi, '(link)')
    .replace(/\s+/g, ' ')
    .slice(0, 200)
    .trim();

/**
 * Reads a robot's answer: HTTP first (5xx and 429 retried, as for webhooks), then the code in the JSON body —
 * 0 delivered, rate limited retried after the documented window, a signature or keyword mismatch stopped with the fix.
 *
 * @example
 * ```ts
 * classifyRobotAnswer('dingtalk', 200, '{"errcode":310000,"errmsg":"sign not match"}', Date.now(), null);
 * // { outcome: 'stop', status: 200, error: 'DingTalk errcode 310000: sign not match', fix: '…' }
 * ```
 */
export const classifyRobotAnswer = (
  kind: ChatRobotKind,
  status: number,
  text: string,
  nowMs: number,
  headers: Headers | null,
): Attempt => {
  if (status < 200 || status >= 300) {
    return classifyHttpStatus(status, headers?.get('retry-after') ?? null, nowMs);
  }
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { outcome: 'stop', status, error: `${NAMES[kind]} answered HTTP ${status} without a JSON body` };
  }
  // Lark answers {code, msg}; its older answers had StatusCode/StatusMessage. DingTalk and WeCom {errcode, errmsg}.
  const code = Number(answer.errcode ?? answer.code ?? answer.StatusCode ?? Number.NaN);
  const message = cleanMessage(answer.errmsg ?? answer.msg ?? answer.StatusMessage);
  if (code === 0) return { outcome: 'delivered', status };
  if (!Number.isFinite(code)) {
    return { outcome: 'stop', status, error: `${NAMES[kind]} answered without an error code` };
  }
  const error = `${NAMES[kind]} ${kind === 'lark' ? 'code' : 'errcode'} ${code}: ${message}`;
  if (isRateLimited(kind, code)) return { outcome: 'retry', status, error, retryAfterMs: RATE_LIMITED_FOR_MS[kind] };
  // DingTalk's and WeCom's -1 is "system busy": worth another try.
  if (code === -1) return { outcome: 'retry', status, error };
  const fix = fixFor(kind, code, message);
  return { outcome: 'stop', status, error, ...(fix !== undefined && { fix }) };
};

export type ChatRobotChannelOptions = ChatSummaryOptions & {
  /** The instance's slot book: the robot's documented limit is kept across this instance's invocations. */
  rateWindow: RateWindow;
  fetch?: typeof fetch;
  now?: () => number;
};

/**
 * One configured robot as a channel: a message per status (markdown or card), signed per attempt, paced under the
 * robot's documented rate limit, and its answer classified.
 *
 * @example
 * ```ts
 * const channels = config.chatRobots.map((robot) => chatRobotChannel(robot, { statusPrefix, rateWindow }));
 * ```
 */
export const chatRobotChannel = (robot: ChatRobot, options: ChatRobotChannelOptions): Channel => {
  const { rateWindow, fetch: fetchImpl = globalThis.fetch, now = Date.now } = options;
  const label = robotLabel(robot.url);
  /**
   * Messages this instance sent or is sending, by notification id: a person reads every duplicate (there is no
   * webhook-id to dedupe on), so a concurrent invocation of the same outcome on this instance waits for the first
   * one's answer instead of posting again. Bounded; across instances the status record is the only guard.
   */
  const sentHere = new Map<string, Promise<Attempt>>();
  return {
    kind: robot.kind,
    label,
    states: robot.states ?? TERMINAL_STATES,
    reserveSlot: (nowMs, latestMs) => rateWindow.reserve(label, ROBOT_LIMITS[robot.kind], nowMs, latestMs),
    prepare(status, id, _at) {
      const message = robotMessageOf(robot.kind, chatSummaryOf(status, options));
      const send = async (budgetMs: number): Promise<Attempt> => {
        const { url, body } = robotRequestOf(robot, message, now());
        try {
          const response = await fetchImpl(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json; charset=utf-8' },
            body,
            redirect: 'manual',
            signal: AbortSignal.timeout(budgetMs),
          });
          const text = (await response.text()).slice(0, MAX_ANSWER_CHARS);
          const attempt = classifyRobotAnswer(robot.kind, response.status, text, now(), response.headers);
          if (attempt.outcome === 'retry' && attempt.retryAfterMs !== undefined) {
            rateWindow.block(label, now() + attempt.retryAfterMs);
          }
          return attempt;
        } catch (error) {
          return { outcome: 'retry', error: describeFailure(error, budgetMs) };
        }
      };
      return {
        type: `algolib.${status.state.toLowerCase()}`,
        async attempt(budgetMs): Promise<Attempt> {
          const earlier = sentHere.get(id);
          if (earlier && (await earlier).outcome === 'delivered') return earlier;
          // Set before any await, so a concurrent attempt of the same id finds it.
          const current = send(budgetMs);
          sentHere.set(id, current);
          if (sentHere.size > MAX_REMEMBERED) sentHere.delete(sentHere.keys().next().value as string);
          const attempt = await current;
          if (attempt.outcome !== 'delivered' && sentHere.get(id) === current) sentHere.delete(id);
          return attempt;
        },
      };
    },
  };
};
