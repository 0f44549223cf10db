/**
 * The local cloud's chat robot: a loopback `node:http` server that answers like a DingTalk, WeCom or Lark custom robot
 * (local/README.md "Chat robots" cites what each behaviour rests on) and remembers every message for `algolib dev`'s
 * log and a console page.
 *
 * - The credential in the URL (DingTalk `access_token`, WeCom `key`, Lark hook id) must match, as on the real robot.
 * - With a secret, the signature is checked as each robot documents it, with its own code (written here from the
 *   documentation, not shared with the sender in shared/chat-robots.ts): DingTalk `timestamp`/`sign` query parameters,
 *   HmacSHA256 keyed by the secret over `timestamp + "\n" + secret`, timestamp in ms within one hour → errcode 310000;
 *   Lark `timestamp`/`sign` in the body, HmacSHA256 keyed by `timestamp + "\n" + secret` over nothing, timestamp in
 *   seconds within one hour → code 19021.
 * - Optional keywords (DingTalk's and Lark's third security mode): a message without one is refused.
 * - The documented rate limits per robot (DingTalk 20/min then closed for 10 min → 130101; WeCom 20/min → 45009;
 *   Lark 5/s and 100/min → 11232), counted on accepted messages; `limits` lowers them for tests.
 * - Answers are HTTP 200 with `{errcode, errmsg}` (`{code, msg}` for Lark), as the robots answer.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { ChatRobotKind } from '../shared/config.ts';
import { BodyTooLargeError, httpOrigin, listen, loopbackHost, readBody } from './http-server.ts';

export type ChatRobotReceiverOptions = {
  kind: ChatRobotKind;
  host?: string;
  port?: number;
  /** DingTalk `SEC…` or Lark secret; a fresh one when absent (`null`: the robot does not sign, like WeCom's). */
  secret?: string | null;
  keywords?: string[];
  /** Lower limits than the documented ones, e.g. for a test: `[{ max: 2, perMs: 60_000 }]`. */
  limits?: Array<{ max: number; perMs: number }>;
  /** How long DingTalk stays closed after its limit (documented: 10 minutes). */
  closedForMs?: number;
  now?: () => number;
  log?: (entry: Record<string, unknown>) => void;
};

export type ReceivedChatMessage = {
  kind: ChatRobotKind;
  receivedAt: string;
  /** Whether the robot would have posted it to the group. */
  accepted: boolean;
  /** The robot's answer code (0 when accepted). */
  code: number;
  answer: string;
  /** Signature checked and valid (`false` when the robot has no secret). */
  verified: boolean;
  /** What the group would read: the markdown text or the card's title and text. */
  text: string;
  body: unknown;
};

export type ChatRobotReceiver = {
  kind: ChatRobotKind;
  /** The robot's webhook URL on 127.0.0.1, with its credential (token, key or hook id) in it. */
  url: string;
  secret: string | undefined;
  /** A copy of every message received, in arrival order (for `algolib dev`'s log and a console page). */
  messages(): ReceivedChatMessage[];
  close(): Promise<void>;
};

const DOCUMENTED_LIMITS: Record<ChatRobotKind, Array<{ max: number; perMs: number }>> = {
  dingtalk: [{ max: 20, perMs: 60_000 }],
  wecom: [{ max: 20, perMs: 60_000 }],
  lark: [
    { max: 5, perMs: 1_000 },
    { max: 100, perMs: 60_000 },
  ],
};
const ONE_HOUR_MS = 3_600_000;
const MAX_BODY_BYTES = 1 << 20;
/** Lark documents 20 KB per request body. */
const LARK_MAX_BODY_BYTES = 20 * 1024;

type Answer = { code: number; message: string };
const OK: Answer = { code: 0, message: 'ok' };

const sameText = (a: string, b: string) => {
  const [left, right] = [Buffer.from(a), Buffer.from(b)];
  return left.length === right.length && timingSafeEqual(left, right);
};

/** The text a group member would read, per format; '' when the body is not a message of that robot. */
const textOf = (kind: ChatRobotKind, body: Record<string, unknown>): string => {
  const field = (value: unknown, ...path: string[]): string => {
    let current = value;
    for (const key of path) current = (current as Record<string, unknown> | undefined)?.[key];
    return typeof current === 'string' ? current : '';
  };
  if (kind === 'lark') {
    if (body.msg_type === 'text') return field(body, 'content', 'text');
    if (body.msg_type !== 'interactive') return '';
    const elements = ((body.card as Record<string, unknown> | undefined)?.elements ?? []) as unknown[];
    const title = field(body, 'card', 'header', 'title', 'content');
    return [title, ...elements.map((element) => field(element, 'text', 'content'))].filter(Boolean).join('\n');
  }
  if (body.msgtype === 'markdown') {
    return kind === 'dingtalk'
      ? `${field(body, 'markdown', 'title')}\n${field(body, 'markdown', 'text')}`
      : field(body, 'markdown', 'content');
  }
  return body.msgtype === 'text' ? field(body, 'text', 'content') : '';
};

/**
 * Starts a robot of one kind on 127.0.0.1 (random port unless given).
 *
 * @example
 * ```ts
 * const robot = await startChatRobotReceiver({ kind: 'dingtalk' });
 * // CHAT_ROBOTS='[{"kind":"dingtalk","url":"<robot.url>","secret":"<robot.secret>"}]'
 * ```
 */
export const startChatRobotReceiver = async (options: ChatRobotReceiverOptions): Promise<ChatRobotReceiver> => {
  const { kind, keywords = [], now = Date.now, log } = options;
  const host = loopbackHost(options.host ?? '127.0.0.1');
  const secret =
    options.secret === null || kind === 'wecom'
      ? undefined
      : (options.secret ?? (kind === 'dingtalk' ? `SEC${randomBytes(32).toString('hex')}` : randomUUID()));
  const token = kind === 'dingtalk' ? randomBytes(32).toString('hex') : randomUUID();
  const limits = options.limits ?? DOCUMENTED_LIMITS[kind];
  const closedForMs = options.closedForMs ?? 600_000;
  const received: ReceivedChatMessage[] = [];
  const accepted: number[] = [];
  let closedUntil = 0;

  const credentialOk = (url: URL): boolean => {
    if (kind === 'dingtalk') return url.pathname === '/robot/send' && url.searchParams.get('access_token') === token;
    if (kind === 'wecom') return url.pathname === '/cgi-bin/webhook/send' && url.searchParams.get('key') === token;
    return url.pathname === `/open-apis/bot/v2/hook/${token}`;
  };

  /** DingTalk 加签: the signature and timestamp ride in the query string. */
  const checkDingTalk = (url: URL): Answer | undefined => {
    if (secret === undefined) return undefined;
    const timestamp = Number(url.searchParams.get('timestamp'));
    if (!Number.isInteger(timestamp) || Math.abs(now() - timestamp) > ONE_HOUR_MS) {
      return { code: 310000, message: 'invalid timestamp' };
    }
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
      .update(Buffer.from(`${timestamp}\n${secret}`, 'utf8'))
      .digest('base64');
    return sameText(url.searchParams.get('sign') ?? '', expected)
      ? undefined
      : { code: 310000, message: 'sign not match' };
  };

  /** Lark 签名校验: the key is timestamp + "\n" + secret, the signed message is empty. */
  const checkLark = (body: Record<string, unknown>): Answer | undefined => {
    if (secret === undefined) return undefined;
    const timestamp = Number(body.timestamp);
    const expected = createHmac('sha256', Buffer.from(`${body.timestamp}\n${secret}`, 'utf8'))
      .update(Buffer.alloc(0))
      .digest('base64');
    const fresh = Number.isInteger(timestamp) && Math.abs(now() / 1000 - timestamp) <= ONE_HOUR_MS / 1000;
    return fresh && typeof body.sign === 'string' && sameText(body.sign, expected)
      ? undefined
      : { code: 19021, message: 'sign match fail or timestamp is not within one hour from current time' };
  };

  const rateLimited = (): Answer | undefined => {
    const at = now();
    const tooFast = { dingtalk: 130101, wecom: 45009, lark: 11232 }[kind];
    const message = {
      dingtalk: 'send too fast, exceed 20 times per minute',
      wecom: 'api freq out of limit',
      lark: 'frequency limited',
    }[kind];
    if (at < closedUntil) return { code: tooFast, message };
    const over = limits.some(({ max, perMs }) => accepted.filter((sent) => sent > at - perMs).length >= max);
    if (!over) return undefined;
    // DingTalk documents a 10-minute throttle after the limit; WeCom and Lark count a sliding window.
    if (kind === 'dingtalk') closedUntil = at + closedForMs;
    return { code: tooFast, message };
  };

  const judge = (url: URL, raw: Buffer): { answer: Answer; verified: boolean; text: string; body: unknown } => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      return { answer: badRequest(), verified: false, text: '', body: null };
    }
    const text = textOf(kind, body);
    const signature = kind === 'dingtalk' ? checkDingTalk(url) : kind === 'lark' ? checkLark(body) : undefined;
    const verified = secret !== undefined && signature === undefined;
    const result = (answer: Answer) => ({ answer, verified, text, body });
    if (signature) return result(signature);
    if (text === '') return result(badRequest());
    if (kind === 'wecom' && Buffer.byteLength(text) > 4096)
      return result({ code: 40058, message: 'content exceed max length' });
    if (kind === 'lark' && raw.length > LARK_MAX_BODY_BYTES)
      return result({ code: 9499, message: 'request body too large' });
    if (keywords.length > 0 && !keywords.some((keyword) => text.includes(keyword))) {
      return result(
        kind === 'lark'
          ? { code: 19024, message: 'Key Words Not Found' }
          : { code: 310000, message: 'keywords not in content' },
      );
    }
    return result(rateLimited() ?? OK);
  };

  const badRequest = (): Answer =>
    kind === 'lark' ? { code: 9499, message: 'Bad Request' } : { code: 40035, message: 'invalid message body' };

  const answerWith = (res: ServerResponse, { code, message }: Answer) => {
    const payload = kind === 'lark' ? { code, msg: message, data: {} } : { errcode: code, errmsg: message };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://robot.local');
    if (req.method !== 'POST') return void res.writeHead(405).end();
    if (!credentialOk(url)) {
      const invalid =
        kind === 'dingtalk'
          ? { code: 300001, message: 'token is not exist' }
          : kind === 'wecom'
            ? { code: 93000, message: 'invalid webhook url' }
            : { code: 19001, message: 'param invalid: incoming webhook access token invalid' };
      log?.({ service: 'chat-robot', kind, accepted: false, code: invalid.code });
      return answerWith(res, invalid);
    }
    const raw = await readBody(req, { maxBytes: MAX_BODY_BYTES }).catch((error: unknown) => {
      if (error instanceof BodyTooLargeError) return undefined;
      throw error;
    });
    if (raw === undefined) return void res.writeHead(413).end();
    const { answer, verified, text, body } = judge(url, raw);
    if (answer.code === 0) accepted.push(now());
    received.push({
      kind,
      receivedAt: new Date(now()).toISOString(),
      accepted: answer.code === 0,
      code: answer.code,
      answer: answer.message,
      verified,
      text,
      body,
    });
    log?.({
      service: 'chat-robot',
      kind,
      accepted: answer.code === 0,
      code: answer.code,
      verified,
      headline: text.split('\n')[0]?.slice(0, 160),
    });
    answerWith(res, answer);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const port = await listen(server, options.port ?? 0, host);
  const origin = httpOrigin(host, port);
  const url =
    kind === 'dingtalk'
      ? `${origin}/robot/send?access_token=${token}`
      : kind === 'wecom'
        ? `${origin}/cgi-bin/webhook/send?key=${token}`
        : `${origin}/open-apis/bot/v2/hook/${token}`;
  return {
    kind,
    url,
    secret,
    messages: () => received.map((message) => ({ ...message })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
