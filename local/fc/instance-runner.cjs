'use strict';
/**
 * One FC function instance, run as a child process of the FC emulator (child_process.fork, IPC channel).
 * Plain CommonJS so that it can be forked both from vitest and from a bundled CLI (copy it next to the bundle).
 *
 * Protocol (JSON messages):
 *   parent → { type: 'init', codeDir, handler, initializer?, context }   load the code, run the initializer once
 *   child  → { type: 'initialized' } | { type: 'initFailed', phase: 'load' | 'initializer', error }
 *   parent → { type: 'invoke', id, payload: base64, requestId, qualifier, credentials? }   credentials: the STS
 *            triplet current when it was dispatched (FC rotates them; the context carries the current one)
 *   parent → { type: 'thaw' }   the instance was frozen (SIGSTOP) and is running again: every connection it opened
 *            before is reset on its next use, as a keep-alive socket whose peer dropped it during the freeze is
 *   child  → { type: 'thawed', stale }   how many open sockets were marked
 *   child  → { type: 'result', id, body: base64 } | { type: 'failed', id, kind: 'handled' | 'unhandled', error }
 *   child  → { type: 'fatal', error }   an uncaught exception; the process then exits like FC's runtime would
 *   child  → { type: 'output', stream: 'stdout' | 'stderr', text }   what the function printed
 * `error` is FC's error body: { errorMessage, errorType?, stackTrace? }.
 */
const diagnostics = require('node:diagnostics_channel');
const fs = require('node:fs');
const path = require('node:path');
const { format } = require('node:util');
const { pathToFileURL } = require('node:url');

let base; // the context fields every invocation shares: credentials, function, service, region, accountId
let handler;

const send = (message) => {
  if (process.connected) process.send(message);
};

/** FC's error body. `callback('text')` gives only an errorMessage, as FC documents. */
const errorBody = (error) =>
  error instanceof Error
    ? {
        errorMessage: error.message,
        errorType: error.name || 'Error',
        stackTrace: String(error.stack || '').split('\n'),
      }
    : { errorMessage: typeof error === 'string' ? error : JSON.stringify(error) };

const createLogger = (requestId) => {
  const write =
    (level) =>
    (...args) => {
      process.stdout.write(`${new Date().toISOString()} ${requestId} [${level}] ${format(...args)}\n`);
    };
  return { debug: write('DEBUG'), info: write('INFO'), warn: write('WARN'), error: write('ERROR'), log: write('INFO') };
};

const contextFor = (requestId, qualifier, credentials) => ({
  ...base,
  ...(credentials ? { credentials } : {}),
  requestId,
  service: { ...base.service, qualifier: qualifier || 'LATEST' },
  logger: createLogger(requestId),
});

/** `file.export` → the exported function; FC's own messages when the module or the export is missing. */
const loadExport = async (codeDir, spec) => {
  const dot = spec.lastIndexOf('.');
  const moduleName = spec.slice(0, dot);
  const exportName = spec.slice(dot + 1);
  const file = ['.js', '.cjs', '.mjs'].map((ext) => path.join(codeDir, moduleName + ext)).find((f) => fs.existsSync(f));
  if (dot <= 0 || !file) throw new Error(`Cannot find module '${path.join(codeDir, moduleName)}'`);
  const loaded = file.endsWith('.mjs') ? await import(pathToFileURL(file).href) : await requireOrImport(file);
  const fn = loaded[exportName] ?? loaded.default?.[exportName];
  if (typeof fn !== 'function') throw new Error(`Handler '${exportName}' missing on module '${moduleName}'`);
  return fn;
};

const requireOrImport = async (file) => {
  try {
    return require(file);
  } catch (error) {
    if (error && error.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(file).href);
    throw error;
  }
};

/**
 * Calls a handler or initializer the way FC's Node.js runtime does: a function that returns a promise (an `async`
 * function, the form FC documents for nodejs18+) is awaited; any other function is waited on until it calls the
 * callback it is given (the classic `(…, callback)` form). A plain synchronous function that neither returns a promise
 * nor calls back is therefore waited on for ever, until the emulator's Timeout / InitializationTimeout ends the
 * instance, as on FC. Sources: "Lifecycle hooks for function instances" (Node.js)
 * https://www.alibabacloud.com/help/en/functioncompute/user-guide/lifecycle-hooks-for-function-instances (the
 * CommonJS `exports.initialize = function(context, callback)` and the ES module `export const initialize = async
 * (context) => …` forms) and "Event handlers" https://alibabacloud.com/help/doc-detail/156876.htm.
 * Rejects with `{ handled, error }`: `callback(err)` is FC's HandledInvocationError, a throw or a rejected promise its
 * UnhandledInvocationError.
 */
const callUserFunction = (fn, args) =>
  new Promise((resolve, reject) => {
    let settled = false;
    const settle = (action) => {
      if (settled) return;
      settled = true;
      action();
    };
    const callback = (error, result) =>
      settle(() => (error == null ? resolve(result) : reject({ handled: true, error })));
    let returned;
    try {
      returned = fn(...args, callback);
    } catch (error) {
      settle(() => reject({ handled: false, error }));
      return;
    }
    const takesCallback = fn.length > args.length;
    if (returned && typeof returned.then === 'function') {
      returned.then(
        // An async handler that also takes a callback may finish through either.
        (value) => {
          if (!takesCallback || value !== undefined) settle(() => resolve(value));
        },
        (error) => settle(() => reject({ handled: false, error })),
      );
    }
    // Anything else finishes through the callback only; until then the runtime waits.
  });

/** `callUserFunction`'s `{ handled, error }`, or anything else that was thrown on the way. */
const unwrap = (failure) =>
  failure && typeof failure === 'object' && 'handled' in failure ? failure : { handled: false, error: failure };

const toBody = (result) => {
  if (result === undefined || result === null) return Buffer.alloc(0);
  if (Buffer.isBuffer(result)) return result;
  if (result instanceof Uint8Array) return Buffer.from(result);
  return Buffer.from(typeof result === 'string' ? result : JSON.stringify(result), 'utf8');
};

const initialize = async (message) => {
  base = message.context;
  let phase = 'load';
  try {
    handler = await loadExport(message.codeDir, message.handler);
    if (message.initializer) {
      const initializer = await loadExport(message.codeDir, message.initializer);
      phase = 'initializer';
      await callUserFunction(initializer, [contextFor(message.context.requestId, message.context.service.qualifier)]);
    }
    send({ type: 'initialized' });
  } catch (failure) {
    send({ type: 'initFailed', phase, error: errorBody(unwrap(failure).error) });
  }
};

const invoke = async (message) => {
  try {
    const event = Buffer.from(message.payload, 'base64');
    const result = await callUserFunction(handler, [
      event,
      contextFor(message.requestId, message.qualifier, message.credentials),
    ]);
    send({ type: 'result', id: message.id, body: toBody(result).toString('base64') });
  } catch (failure) {
    const { handled, error } = unwrap(failure);
    send({ type: 'failed', id: message.id, kind: handled ? 'handled' : 'unhandled', error: errorBody(error) });
  }
};

/**
 * The function's output goes over the IPC channel rather than the stdout pipe, so the emulator sees every line an
 * invocation printed before it sees the invocation's result (two pipes would race).
 */
const routeOutputOverIpc = (name) => {
  const stream = process[name];
  stream.write = (chunk, encoding, callback) => {
    const text =
      typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8');
    send({ type: 'output', stream: name, text });
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
};
routeOutputOverIpc('stdout');
routeOutputOverIpc('stderr');

/**
 * Every client socket the function opened (ali-oss, pop-core, webhooks: all go through `net`). A frozen FC instance
 * keeps its pooled keep-alive connections, but the servers and NAT on the other side drop them meanwhile, so after a
 * thaw the first request on such a socket fails with ECONNRESET. The emulator reproduces that: on `thaw`, every socket
 * still open is reset the next time it is written to.
 */
const sockets = new Set();
diagnostics.subscribe('net.client.socket', ({ socket }) => {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
});

const resetOnNextUse = (socket) => {
  const write = socket.write;
  socket.write = function resetWrite() {
    socket.write = write;
    const error = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' });
    socket.destroy(error);
    return false;
  };
};

const thaw = () => {
  const stale = [...sockets].filter((socket) => !socket.destroyed);
  for (const socket of stale) resetOnNextUse(socket);
  send({ type: 'thawed', stale: stale.length });
};

process.on('message', (message) => {
  if (message.type === 'init') void initialize(message);
  else if (message.type === 'invoke') void invoke(message);
  else if (message.type === 'thaw') thaw();
});

// Like FC's runtime, an exception nobody caught ends the instance; the emulator fails what was running on it.
process.on('uncaughtException', (error) => {
  process.stderr.write(`Uncaught ${error?.stack ?? String(error)}\n`);
  if (process.connected) process.send({ type: 'fatal', error: errorBody(error) }, () => process.exit(1));
  else process.exit(1);
});

// The emulator went away (closed or killed): an orphaned instance must not linger.
process.on('disconnect', () => process.exit(0));
