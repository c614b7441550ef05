import { connect, type Socket } from 'node:net';
import { startServer, type TestServer } from '../helpers/server';
import {
  caseOver,
  expectNothingLeft,
  fuzzRuns,
  fuzzSeed,
  nested,
  openAIErrorProblem,
  parseResponses,
  pause,
  replayable,
  startRelays,
  within,
  type HttpResponse,
  type Random,
  type RelayKind,
  type Relays,
  type RelayUnderTest,
  type SeedWatch,
  Waiters,
} from './fuzzHelpers';
import { CHAT_STREAM_PARTS, streamParts } from './relayHelpers';

/*
 * The relay's request side, black-box over real sockets: random request lines, headers, bodies and framings,
 * written in random pieces, pipelined, with clients that leave at random points. Whatever arrives, the relay must
 * not crash, must settle every request it saw exactly once, must answer in HTTP with OpenAI-format errors, must
 * never pass the client's credentials upstream, and must leave no socket or timer behind.
 *
 * A failure names its seed and case: `FUZZ_SEED=3:17 npx jest spec/relay/fuzz.requests.spec.ts` replays it alone.
 */

const KEY = 'sk-relay-secret-0123456789';
const CLIENT_KEY = 'sk-client-key-must-stay-here';
const MODELS = ['m', 'm2'];
const MAX_BODY_BYTES = 32 * 1024;
/**
 * Default seeds. Any seed should pass: node:http's automatic `100 Continue` to a pipelined `Expect: 100-continue`
 * request no longer lands inside the relay's answer (FUZZ_SEED=28:211 replays the case that found it).
 */
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const CASES_PER_SEED = 60;
/** Generous for a loaded machine: a case that takes this long has hung. */
const DEADLINE_MS = 8000;

const COMPLETION = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
};
const STREAM_TEXT = CHAT_STREAM_PARTS.join('');
const COMPLETION_TEXT = JSON.stringify(COMPLETION);
const ROUTES = ['chat/completions', 'completions', 'responses'] as const;
type Route = (typeof ROUTES)[number];

let upstream: TestServer;
let relays: Relays;

beforeAll(async () => {
  const stream = streamParts(CHAT_STREAM_PARTS);
  upstream = await startServer((req, res, recorded) => {
    if ((JSON.parse(recorded.body) as { stream?: unknown }).stream === true) return stream(req, res, recorded);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(COMPLETION_TEXT);
  });
  relays = await startRelays({
    apiKey: KEY,
    baseURL: upstream.url,
    maxBodyBytes: MAX_BODY_BYTES,
    allowModels: MODELS,
  });
});

afterAll(async () => {
  await relays?.close();
  await upstream?.close();
});

/** One request as bytes, and what the fuzzer knows about it. */
interface FuzzRequest {
  method: string;
  bytes: Buffer;
  /** node:http reads exactly these bytes as one request (or refuses them): the case may wait for the answer. */
  framed: boolean;
  /** The status the relay owes it when nothing else interferes; undefined when the fuzzer cannot be sure. */
  expected: number | undefined;
  /** Answered, the connection may carry the next request. */
  keepsAlive: boolean;
  what: string;
}

// ---------------------------------------------------------------- request generation

const OTHER_METHODS = ['GET', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'TRACE', 'TRACK', 'CONNECT', 'post', 'Post', 'FOO', 'P0ST', 'M-SEARCH', 'PROPFIND', ''];
/** Methods whose 405 both relays owe (fetch forbids TRACE and CONNECT; HEAD has no body to check). */
const REFUSED_METHODS = new Set(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']);

function method(random: Random, mutate: boolean): string {
  return mutate ? random.pick(OTHER_METHODS) : 'POST';
}

/** A request target; `route` when it names a route the same way for both relays. */
function target(random: Random, mutate: boolean): { target: string; route?: Route } {
  const route = random.pick(ROUTES);
  if (!mutate) {
    const query = random.pick(['', '', '/', '?a=1', '?stream=true&model=x', '?x=%00%ff', `?q=${'y'.repeat(random.int(1, 3000))}`]);
    return { target: `/v1/${route}${query}`, route };
  }
  const variants = [
    `/v1//${route}`,
    `//v1/${route}`,
    `/V1/${route}`,
    `/v1/${route}/..`,
    `/v1/x/../${route}`,
    `/v1/%2e%2e/v1/${route}`,
    `/v1/%2E/${route}`,
    '/v1/chat%2Fcompletions',
    `/v1/${route}%00`,
    `/v1/${route}%`,
    '/v1/ch%C3%A4t/completions',
    '/v1/%F0%9F%91%8B',
    `/v1/${route};x=1`,
    `/v1/${route}#frag`,
    '/v1/embeddings',
    '/v1/models',
    '/',
    '*',
    '/v1',
    `/v10/${route}`,
    `http://relay.test/v1/${route}`,
    `/v1/${'a'.repeat(random.int(1, 20_000))}`,
    `/v1/${route}ü`,
    `/v1/ ${route}`,
    '',
  ];
  return { target: random.pick(variants) };
}

interface HeaderLines {
  lines: string[];
  /** Nothing in them that node:http or a fetch adapter would refuse or that changes the answer. */
  plain: boolean;
  keepsAlive: boolean;
  what: string[];
}

function headers(random: Random, mutate: boolean): HeaderLines {
  const lines: string[] = [];
  const what: string[] = [];
  let plain = true;
  let keepsAlive = true;
  const odd = (line: string, label: string) => {
    lines.push(line);
    what.push(label);
    plain = false;
  };
  const hostRoll = mutate ? random.next() : 0;
  if (hostRoll < 0.4) lines.push(`host: ${random.pick(['relay.test', '127.0.0.1', 'localhost:8080'])}`);
  else if (hostRoll < 0.65) odd(`host: ${random.pick(['a b', 'a:b:c', '[::1', 'x'.repeat(300), '', 'relay.test:99999'])}`, 'odd host');
  else if (hostRoll < 0.8) {
    lines.push('host: relay.test');
    odd('host: other.test', 'two hosts');
  } else {
    what.push('no host');
    plain = false;
  }
  const contentType = random.pick([
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'garbage/',
    undefined,
  ]);
  if (contentType !== undefined) lines.push(`content-type: ${contentType}`);
  if (random.chance(0.3)) {
    lines.push(`authorization: Bearer ${CLIENT_KEY}`, `cookie: session=${CLIENT_KEY}`, `x-api-key: ${CLIENT_KEY}`);
    what.push('client credentials');
  }
  if (random.chance(0.1)) {
    lines.push('expect: 100-continue');
    what.push('expect 100-continue');
  }
  if (random.chance(0.15)) {
    const connection = random.pick(['close', 'keep-alive', 'te, close']);
    lines.push(`connection: ${connection}`);
    keepsAlive = !connection.includes('close');
    what.push(`connection ${connection}`);
  }
  if (random.chance(0.1)) lines.push(`accept-encoding: ${random.pick(['gzip, br', 'identity', '*'])}`);
  if (random.chance(0.05)) lines.push('content-encoding: gzip');
  if (random.chance(0.1)) {
    const count = random.int(10, 200);
    for (let i = 0; i < count; i++) lines.push(`x-h${i}: ${i}`);
    what.push(`${count} headers`);
  }
  if (mutate && random.chance(0.3)) odd(`x-huge: ${'h'.repeat(random.int(1000, 20_000))}`, 'huge header');
  if (mutate && random.chance(0.3)) odd(random.pick(['x y: 1', ': no-name', 'x-fold: a\r\n folded', 'x-nul: a\0b', 'no-colon']), 'malformed header');
  return { lines, plain, keepsAlive, what };
}

interface Body {
  bytes: Buffer;
  what: string;
  /** A 200's body must be upstream's answer (checked for every 200 the client gets). */
  expected: number | undefined;
}

/** A JSON body the route takes, `stream` or not; `tag` names the request to upstream's checks. */
function validBody(random: Random, route: Route, stream: boolean, tag: string): Record<string, unknown> {
  const body: Record<string, unknown> = { model: random.pick(MODELS), metadata: { fuzz: tag } };
  if (route === 'chat/completions') body.messages = [{ role: 'user', content: random.pick(['hi', 'wörld 👋', '']) }];
  if (route === 'completions') body.prompt = random.pick(['hi', ['a', 'b']]);
  if (route === 'responses' && random.chance(0.8)) body.input = random.pick(['hi', [{ role: 'user', content: 'hi' }]]);
  if (stream) body.stream = true;
  else if (random.chance(0.3)) body.stream = random.pick([false, null]);
  if (random.chance(0.3)) body.temperature = 0.5;
  if (stream && random.chance(0.3)) body.stream_options = { include_usage: true };
  return body;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

function body(random: Random, route: Route, mutate: boolean, tag: string): Body {
  const stream = random.chance(0.6);
  const valid = validBody(random, route, stream, tag);
  if (!mutate) return { bytes: json(valid), what: `valid ${stream ? 'stream' : 'JSON'}`, expected: 200 };
  const kind = random.pick([
    'not allowed',
    'truncated',
    'deep',
    'huge string',
    'wrong types',
    'non-UTF-8 in a string',
    'non-UTF-8 outside',
    'BOM',
    'empty',
    'duplicate keys',
    '__proto__',
    'random bytes',
  ] as const);
  switch (kind) {
    case 'not allowed':
      return { bytes: json({ ...valid, model: 'gpt-not-allowed' }), what: kind, expected: 403 };
    case 'truncated': {
      const text = json(valid);
      return { bytes: text.subarray(0, random.int(0, text.length - 1)), what: kind, expected: 400 };
    }
    case 'deep': {
      const depth = random.chance(0.5) ? random.int(1, 100) : random.int(130, 15_000);
      const content = `{"role":"user","content":${nested(depth)}}`;
      const text = `{"model":"m","messages":[${content}],"prompt":"p","stream":${stream},"metadata":{"fuzz":"${tag}"}}`;
      return { bytes: Buffer.from(text), what: `deep ${depth}`, expected: depth <= 100 ? 200 : 400 };
    }
    case 'huge string': {
      const text = json({ ...valid, filler: 'x'.repeat(random.int(1000, 48_000)) });
      return { bytes: text, what: `huge ${text.length}`, expected: text.length > MAX_BODY_BYTES ? 413 : 200 };
    }
    case 'wrong types': {
      const wrong = random.pick<unknown>([
        { ...valid, model: 123 },
        { ...valid, model: '' },
        { ...valid, stream: 'yes' },
        { messages: [], prompt: 'p', input: 'i' },
        [],
        'text',
        null,
        42,
      ]);
      return { bytes: json(wrong), what: `wrong types ${JSON.stringify(wrong).slice(0, 60)}`, expected: 400 };
    }
    case 'non-UTF-8 in a string': {
      const text = JSON.stringify({ ...valid, user: '@@' });
      const at = text.indexOf('@@');
      const bad = random.pick([[0xff], [0xfe, 0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82]]);
      const bytes = Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bad), Buffer.from(text.slice(at + 2))]);
      return { bytes, what: kind, expected: 200 };
    }
    case 'non-UTF-8 outside':
      return { bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), json(valid)]), what: kind, expected: 400 };
    case 'BOM':
      return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(valid)]), what: kind, expected: undefined };
    case 'empty':
      return { bytes: Buffer.alloc(0), what: kind, expected: 400 };
    case 'duplicate keys':
      return { bytes: Buffer.from(`{"model":"m","model":"x",${JSON.stringify(valid).slice(1)}`), what: kind, expected: undefined };
    case '__proto__':
      return { bytes: Buffer.from(`{"__proto__":{"stream":true,"model":"z"},${JSON.stringify(valid).slice(1)}`), what: kind, expected: undefined };
    case 'random bytes':
      return { bytes: random.bytes(random.int(1, 200)), what: kind, expected: undefined };
  }
}

interface Framing {
  lines: string[];
  bytes: Buffer;
  /** node:http reads the body to exactly its end (or refuses it): nobody waits for bytes that never come. */
  framed: boolean;
  /** A well-formed framing the relay reads the whole body through. */
  sound: boolean;
  what: string;
}

function chunkedBody(random: Random, bytes: Buffer): Buffer {
  const hex = (size: number) => (random.chance(0.5) ? size.toString(16) : size.toString(16).toUpperCase());
  const extension = () => (random.chance(0.2) ? ';ext=1' : '');
  const parts = bytes.length === 0 ? [] : random.pieces(bytes, 5);
  const chunks = parts.flatMap((part) => [Buffer.from(`${hex(part.length)}${extension()}\r\n`), part, Buffer.from('\r\n')]);
  return Buffer.concat([...chunks, Buffer.from(`0\r\n${random.chance(0.2) ? 'x-trailer: 1\r\n' : ''}\r\n`)]);
}

function framing(random: Random, bytes: Buffer, mutate: boolean): Framing {
  const length = bytes.length;
  if (!mutate && random.chance(0.7)) return { lines: [`content-length: ${length}`], bytes, framed: true, sound: true, what: 'content-length' };
  if (!mutate) return { lines: ['transfer-encoding: chunked'], bytes: chunkedBody(random, bytes), framed: true, sound: true, what: 'chunked' };
  const variant = random.pick([
    'none',
    'duplicate content-length',
    'two different content-lengths',
    'content-length and chunked',
    'bad chunk size',
    'chunk longer than sent',
    'content-length longer than sent',
    'content-length shorter than sent',
    'garbage content-length',
    'transfer-encoding gzip',
  ] as const);
  const odd = (lines: string[], body: Buffer, framed: boolean): Framing => ({ lines, bytes: body, framed, sound: false, what: variant });
  switch (variant) {
    case 'none':
      return odd([], bytes, length === 0);
    case 'duplicate content-length':
      return odd([`content-length: ${length}`, `content-length: ${length}`], bytes, true);
    case 'two different content-lengths':
      return odd([`content-length: ${length}`, `content-length: ${length + 1}`], bytes, true);
    case 'content-length and chunked':
      return odd([`content-length: ${length}`, 'transfer-encoding: chunked'], chunkedBody(random, bytes), false);
    case 'bad chunk size': {
      const size = random.pick(['zz', '-1', 'ffffffffffffffffff', '', '0x10', '1 2']);
      return odd(['transfer-encoding: chunked'], Buffer.concat([Buffer.from(`${size}\r\n`), bytes, Buffer.from('\r\n0\r\n\r\n')]), false);
    }
    case 'chunk longer than sent':
      return odd(['transfer-encoding: chunked'], Buffer.concat([Buffer.from(`${(length + 50).toString(16)}\r\n`), bytes, Buffer.from('\r\n0\r\n\r\n')]), false);
    case 'content-length longer than sent':
      return odd([`content-length: ${length + random.int(1, 100)}`], bytes, false);
    case 'content-length shorter than sent':
      return odd([`content-length: ${random.int(0, Math.max(0, length - 1))}`], bytes, false);
    case 'garbage content-length':
      return odd([`content-length: ${random.pick(['abc', '-1', '1e3', ` ${length}x`, '99999999999999999999'])}`], bytes, false);
    case 'transfer-encoding gzip':
      return odd(['transfer-encoding: gzip'], bytes, false);
  }
}

const ASPECTS = ['method', 'target', 'version', 'headers', 'body', 'framing'] as const;

/** A valid request with a few of its aspects (none to three) replaced by random, mostly hostile, ones. */
function request(random: Random, tag: string): FuzzRequest {
  const mutated = new Set(Array.from({ length: random.pick([0, 0, 1, 1, 1, 2, 3]) }, () => random.pick(ASPECTS)));
  const verb = method(random, mutated.has('method'));
  const { target: path, route } = target(random, mutated.has('target'));
  const version = !mutated.has('version') ? (random.chance(0.9) ? 'HTTP/1.1' : 'HTTP/1.0') : random.pick(['HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/x', 'http/1.1']);
  const head = headers(random, mutated.has('headers'));
  const content = body(random, route ?? random.pick(ROUTES), mutated.has('body'), tag);
  const frame = framing(random, content.bytes, mutated.has('framing'));
  const lines = [...head.lines, ...frame.lines];
  const bytes = Buffer.concat([Buffer.from(`${verb} ${path} ${version}\r\n${lines.map((line) => `${line}\r\n`).join('')}\r\n`), frame.bytes]);
  const clean = head.plain && frame.sound && route !== undefined && (version === 'HTTP/1.1' || version === 'HTTP/1.0');
  const expected = !clean ? undefined : verb === 'POST' ? content.expected : REFUSED_METHODS.has(verb) ? 405 : undefined;
  return {
    method: verb,
    bytes,
    framed: frame.framed && verb !== 'CONNECT',
    expected,
    keepsAlive: head.keepsAlive && version === 'HTTP/1.1' && expected !== undefined && expected !== 413,
    what: [`${verb || '(none)'} ${path.slice(0, 60)}${path.length > 60 ? '…' : ''} ${version}`, content.what, frame.what, ...head.what].join(', '),
  };
}

// ---------------------------------------------------------------- the client

/** How the client behaves once its bytes are ready. */
type Departure =
  | { kind: 'stays' }
  | { kind: 'half-closes' }
  | { kind: 'leaves while writing'; after: number }
  | { kind: 'leaves at the first answer byte' }
  | { kind: 'leaves after turns'; turns: number };

interface ClientPlan {
  requests: FuzzRequest[];
  pieces: Buffer[];
  /** setImmediate turns after each piece. */
  pauses: number[];
  departure: Departure;
}

/** The case's requests, tagged `${caseTag}:${index}`, and how its client sends them. */
function clientPlan(random: Random, caseTag: string): ClientPlan {
  const count = random.chance(0.75) ? 1 : random.int(2, 4);
  const requests = Array.from({ length: count }, (_, i) => request(random, `${caseTag}:${i + 1}`));
  const wire = Buffer.concat(requests.map((each) => each.bytes));
  const pieces = random.pieces(wire, random.pick([1, 2, 4, 12, 40]));
  const pauses = pieces.map(() => random.int(0, 2));
  return { requests, pieces, pauses, departure: departure(random, wire.length, requests.every((each) => each.framed)) };
}

function departure(random: Random, length: number, framed: boolean): Departure {
  const roll = random.next();
  // A request node:http cannot finish reading is never answered: its client must end the connection itself.
  if (roll < 0.7) return framed ? { kind: 'stays' } : { kind: 'half-closes' };
  if (roll < 0.78) return { kind: 'half-closes' };
  if (roll < 0.86) return { kind: 'leaves while writing', after: random.int(0, length) };
  if (roll < 0.92 && framed) return { kind: 'leaves at the first answer byte' };
  return { kind: 'leaves after turns', turns: random.int(0, 20) };
}

function describePlan(plan: ClientPlan): string {
  const lines = plan.requests.map((each, i) => `  request ${i + 1}: ${each.what}${each.expected ? ` → expect ${each.expected}` : ''}`);
  const departure = JSON.stringify(plan.departure);
  return [...lines, `  written in ${plan.pieces.length} piece(s); client ${departure}`].join('\n');
}

interface Received {
  bytes: Buffer;
  /** The client kept its side open until the server was done with it. */
  stayed: boolean;
  /** The server ended the connection (a body delimited by the connection's end is then complete). */
  serverEnded: boolean;
  /** A write failed (the server had closed): node:net then drops whatever it had not read yet. */
  writeFailed: boolean;
}

/** Sockets of the running case still open: a case that fails mid-way must not leave its client to the next one. */
const openClients = new Set<Socket>();

/** Writes the plan's bytes to the relay over a raw socket and reads until the answers are in or the socket closed. */
async function exchange(port: number, plan: ClientPlan): Promise<Received> {
  const socket = connect(port, '127.0.0.1');
  openClients.add(socket);
  socket.once('close', () => openClients.delete(socket));
  const connection = watch(socket, plan.requests);
  await new Promise<void>((resolve) => socket.once('connect', resolve).once('close', resolve));
  const { departure } = plan;
  let written = 0;
  for (const [i, piece] of plan.pieces.entries()) {
    if (socket.destroyed) break;
    if (departure.kind === 'leaves while writing' && written + piece.length >= departure.after) {
      socket.write(piece.subarray(0, departure.after - written));
      socket.destroy();
      break;
    }
    socket.write(piece);
    written += piece.length;
    await pause(plan.pauses[i]);
  }
  if (departure.kind === 'half-closes') socket.end();
  if (departure.kind === 'leaves after turns') await pause(departure.turns);
  if (departure.kind === 'leaves at the first answer byte') await connection.until(() => connection.bytes().length > 0);
  if (departure.kind === 'stays') await connection.until(connection.allAnswered);
  socket.destroy();
  await connection.until(() => connection.closed);
  const { serverEnded, writeFailed } = connection;
  return { bytes: connection.bytes(), stayed: departure.kind === 'stays', serverEnded, writeFailed };
}

/** What one raw connection received so far, and a way to wait for a condition on it (or its close). */
function watch(socket: Socket, requests: FuzzRequest[]) {
  const chunks: Buffer[] = [];
  const waiters = new Waiters();
  const state = {
    closed: false,
    serverEnded: false,
    writeFailed: false,
    bytes: () => Buffer.concat(chunks),
    /** Every request has a complete answer, or the bytes are no HTTP (the checks report that). */
    allAnswered(): boolean {
      try {
        const responses = parseResponses(state.bytes(), requests.map((each) => each.method), state.serverEnded);
        return responses.filter((response) => response.complete).length >= requests.length;
      } catch {
        return true;
      }
    },
    /** Resolves when `condition` holds or the connection has closed; the case's deadline bounds it. */
    until: (condition: () => boolean) => waiters.until(() => state.closed || condition(), () => 'the connection', DEADLINE_MS),
  };
  socket.on('error', () => (state.writeFailed = true));
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    waiters.notify();
  });
  socket.on('end', () => (state.serverEnded = true));
  socket.on('close', () => {
    state.closed = true;
    waiters.notify();
  });
  return state;
}

// ---------------------------------------------------------------- checks

/** What is wrong with the answers the client received, if anything. */
function answerProblems(plan: ClientPlan, received: Received): string[] {
  let responses: HttpResponse[];
  try {
    responses = parseResponses(received.bytes, plan.requests.map((each) => each.method), received.serverEnded);
  } catch (error) {
    return [`the client received bytes that are no HTTP response: ${(error as Error).message}`];
  }
  const problems: string[] = [];
  const framed = plan.requests.every((request) => request.framed);
  if (framed && responses.length > plan.requests.length) problems.push(`${responses.length} answers to ${plan.requests.length} request(s)`);
  responses.forEach((response, i) => problems.push(...responseProblems(response).map((problem) => `answer ${i + 1}: ${problem}`)));
  if (received.stayed) problems.push(...expectationProblems(plan.requests, responses, received.writeFailed));
  return problems;
}

function responseProblems(response: HttpResponse): string[] {
  const { status, headers, body, complete, bodiless, closeDelimited } = response;
  const type = headers['content-type'];
  if (type === undefined) {
    // node:http's own refusal of what it could not parse: empty, and the connection closes.
    const fromHttpServer = status >= 400 && body.length === 0 && /close/i.test(headers.connection ?? '');
    return fromHttpServer ? [] : [`status ${status} without content-type (${body.length} body bytes)`];
  }
  if (headers['content-encoding'] !== undefined) return [`content-encoding ${headers['content-encoding']}`];
  if (body.includes(KEY) || body.includes(CLIENT_KEY)) return ['a credential in the body'];
  if (status >= 400) {
    const problem = complete && !bodiless ? openAIErrorProblem(body, headers) : undefined;
    return problem ? [`status ${status}: ${problem}`] : [];
  }
  if (status !== 200) return [`status ${status}`];
  if (bodiless) return [];
  const expected = /^text\/event-stream/.test(type) ? STREAM_TEXT : /^application\/json/.test(type) ? COMPLETION_TEXT : undefined;
  if (expected === undefined) return [`200 with content-type ${type}`];
  const text = body.toString('utf8');
  if (complete && !closeDelimited ? text !== expected : !expected.startsWith(text)) return [`200 body differs from upstream's: ${JSON.stringify(text.slice(0, 200))}`];
  return [];
}

/**
 * Requests whose answer the fuzzer knows, on a connection nothing cut, must get exactly that answer. Bytes node:http
 * cannot take (a request it cannot parse, anything after a request that closes the connection) end the connection,
 * and with it the answers still owed before them: then nothing is certain.
 */
function expectationProblems(requests: FuzzRequest[], responses: HttpResponse[], writeFailed: boolean): string[] {
  const certain = requests.every((request, i) => request.expected && (request.keepsAlive || i === requests.length - 1));
  if (!certain) return [];
  return requests.flatMap((request, i) => {
    const expected = request.expected;
    const response = responses[i];
    // An answer that closes the connection (a 413, one to HTTP/1.0) can come while the client is still sending; its
    // next write then fails, and node:net drops the unread answer with the socket (node's HTTP client reads it).
    if (!response && writeFailed) return [];
    if (!response?.complete) return [`request ${i + 1} got no complete answer; expected ${expected}`];
    return response.status === expected ? [] : [`request ${i + 1} got ${response.status}; expected ${expected}`];
  });
}

function summaryProblems(relay: RelayUnderTest, mark: number): string[] {
  const problems: string[] = [];
  for (const request of relay.ledger.since(mark)) {
    for (const summary of relay.ledger.summariesOf(request)) {
      if (summary.outcome === 'completed' && summary.status !== 200) problems.push(`completed with status ${summary.status}`);
      if (JSON.stringify(summary).includes(KEY)) problems.push('the API key in a summary');
    }
  }
  return problems;
}

/** The tags of the requests that reached upstream: each at most once. */
const tagsUpstream = new Set<string>();
let upstreamChecked = 0;

/**
 * What upstream received since the last look: only the relay's credentials, only bodies the relay checked, and
 * each client request at most once. A request may reach upstream after its case ended (it was on the wire when
 * the client left): the tag, not the time, says whose it is.
 */
function upstreamProblems(): string[] {
  const arrived = upstream.requests.slice(upstreamChecked);
  upstreamChecked += arrived.length;
  return arrived.flatMap((sent) => {
    const problems: string[] = [];
    if (sent.headers.authorization !== `Bearer ${KEY}`) problems.push(`upstream got authorization '${sent.headers.authorization}'`);
    if (JSON.stringify(sent.headers).includes(CLIENT_KEY)) problems.push('upstream got a client credential');
    const body = JSON.parse(sent.body) as { model?: unknown; metadata?: { fuzz?: unknown } };
    if (!MODELS.includes(body.model as string)) problems.push(`upstream got model ${JSON.stringify(body.model)}`);
    const tag = String(body.metadata?.fuzz);
    if (tagsUpstream.has(tag)) problems.push(`request ${tag} reached upstream twice`);
    tagsUpstream.add(tag);
    return problems;
  });
}

// ---------------------------------------------------------------- the cases

async function runCase(kind: RelayKind, plan: ClientPlan, watch: SeedWatch): Promise<void> {
  const relay = relays[kind];
  const mark = relay.ledger.mark();
  let received: Received;
  try {
    received = await within(exchange(relay.server.port, plan), DEADLINE_MS, 'the client exchange');
  } finally {
    for (const client of openClients) client.destroy();
  }
  await caseOver(relay, upstream, DEADLINE_MS);

  expect(summaryProblems(relay, mark)).toEqual([]);
  expect(answerProblems(plan, received)).toEqual([]);
  expect(upstreamProblems()).toEqual([]);
  await expectNothingLeft(relay, watch);
}

test.each(fuzzRuns(SEEDS, CASES_PER_SEED).map((run) => [run.seed, run.cases] as const))(
  'seed %i: random requests, pieces and departures leave no crash, no unsettled request, no socket and no timer',
  (seed, cases) =>
    fuzzSeed(seed, cases, (random, index, watch) => {
      const kind: RelayKind = random.chance(0.5) ? 'node' : 'fetch';
      const plan = clientPlan(random, `${seed}:${index}`);
      const label = () => `fuzz seed=${seed} case=${index} relay=${kind} (replay: FUZZ_SEED=${seed}:${index})\n${describePlan(plan)}`;
      return replayable(label, () => runCase(kind, plan, watch));
    }),
  60_000,
);
