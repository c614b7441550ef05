import { RelayRejection } from '../../src/index.node';
import { corsFrom } from '../../src/cli/relayCommand';
import { UsageError } from '../../src/cli/exitCodes';
import { corsPolicy, type CorsPolicy, type RelayCorsOption } from '../../src/relay/cors';
import { forwardedResponseHeaders } from '../../src/relay/relayHeaders';

interface FakeRequest {
  id: number;
}

const request: FakeRequest = { id: 1 };
const APP = 'https://app.example.com';

function policyOf(option: RelayCorsOption<FakeRequest>, report?: (error: unknown) => void): CorsPolicy<FakeRequest> {
  const policy = corsPolicy(option, report);
  if (!policy) throw new Error('expected a policy');
  return policy;
}

/** A preflight as Chromium sends it for the OpenAI SDK's POST: lowercased names, sorted, comma-joined. */
function preflightOf(policy: CorsPolicy<FakeRequest>, origin: string | undefined, requestHeaders = 'authorization,content-type') {
  return policy.preflight({ method: 'OPTIONS', origin, requestMethod: 'POST', requestHeaders, request });
}

async function refusalOf(answer: Promise<unknown>): Promise<RelayRejection> {
  const error = await answer.then(
    () => undefined,
    (rejection: unknown) => rejection,
  );
  if (error instanceof RelayRejection) return error;
  throw new Error(`expected a RelayRejection, got ${String(error)}`);
}

async function isAllowed(policy: CorsPolicy<FakeRequest>, origin: string): Promise<boolean> {
  const headers = await policy.responseHeaders(origin, request);
  return 'access-control-allow-origin' in headers;
}

test('off unless configured: no option and false give no policy', () => {
  expect(corsPolicy(undefined)).toBeUndefined();
  expect(corsPolicy(false)).toBeUndefined();
});

describe('which origins each form of the option allows', () => {
  const previews = /https:\/\/[a-z0-9-]+\.preview\.example\.com/;
  test.each<[string, RelayCorsOption<FakeRequest>, string[], string[]]>([
    ['one origin', APP, [APP], ['https://app.example.com.attacker.net', 'http://app.example.com', 'https://app.example.com:8443', 'null']],
    [
      'a list of origins and RegExps',
      [APP, previews],
      [APP, 'https://pr-12.preview.example.com'],
      ['https://preview.example.com', 'https://pr-12.preview.example.com.attacker.net', 'https://x.pr-12.preview.example.com'],
    ],
    // Unanchored, this pattern would also allow the two refused origins: it is matched against the whole origin.
    ['a RegExp', /https:\/\/app\.example\.com/, [APP], ['https://app.example.com.attacker.net', 'https://app.example.com:8443']],
    ['a case-insensitive RegExp', /https:\/\/APP\.example\.com/i, [APP], ['https://app.example.co']],
    ['a function', (origin) => origin.endsWith('.example.com'), [APP, 'https://docs.example.com'], ['https://example.org']],
    ['an async function', async (origin) => origin === APP, [APP], ['https://docs.example.com']],
    ['the object form', { origin: [APP] }, [APP], ['https://docs.example.com']],
    ['a custom scheme (Capacitor, Tauri)', ['capacitor://localhost'], ['capacitor://localhost'], ['capacitor://localhost.attacker.net']],
  ])('%s', async (_, option, allowed, refused) => {
    const policy = policyOf(option);
    for (const origin of allowed) expect([origin, await isAllowed(policy, origin)]).toEqual([origin, true]);
    for (const origin of refused) expect([origin, await isAllowed(policy, origin)]).toEqual([origin, false]);
  });

  test('true allows any origin with *, which needs no Vary: Origin', async () => {
    const policy = policyOf(true);
    for (const origin of [APP, 'http://localhost:5173', 'null']) {
      expect(await policy.responseHeaders(origin, request)).toEqual({
        'access-control-allow-origin': '*',
        'access-control-expose-headers': expect.any(String),
      });
    }
  });

  test('a RegExp with the g or y flag answers the same every time (test() would otherwise carry lastIndex over)', async () => {
    for (const pattern of [/https:\/\/app\.example\.com/g, /https:\/\/app\.example\.com/y]) {
      const policy = policyOf(pattern);
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await isAllowed(policy, APP));
      expect(answers).toEqual([true, true, true, true]);
    }
  });

  test('a function allows only with exactly true, and sees the origin and the request', async () => {
    const seen: [string, FakeRequest][] = [];
    const truthy = policyOf(((origin: string, incoming: FakeRequest) => {
      seen.push([origin, incoming]);
      return origin; // Hono's convention: the origin to answer with. Not a boolean: refused.
    }) as unknown as RelayCorsOption<FakeRequest>);
    expect(await isAllowed(truthy, APP)).toBe(false);
    expect(seen).toEqual([[APP, request]]);
  });
});

describe('preflight', () => {
  test('a POST with authorization and content-type from an allowed origin: 204 without contacting anything else', async () => {
    expect(await preflightOf(policyOf(APP), APP)).toEqual({
      status: 204,
      headers: {
        'access-control-allow-origin': APP,
        'access-control-allow-methods': 'POST, GET, OPTIONS',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': '7200',
        vary: 'Origin, Access-Control-Request-Headers',
      },
    });
  });

  test("the OpenAI SDK's headers, resume headers and the request id pass; others only when configured", async () => {
    const requested = [
      'authorization',
      'content-type',
      'last-event-id',
      'openai-organization',
      'openai-project',
      'x-request-id',
      'x-stainless-arch',
      'x-stainless-lang',
      'x-stainless-os',
      'x-stainless-package-version',
      'x-stainless-retry-count',
      'x-stainless-runtime',
      'x-stainless-runtime-version',
      'x-stainless-some-future-header',
      'x-stainless-timeout',
      'x-stream-id',
    ];
    const answer = await preflightOf(policyOf(APP), APP, [...requested, 'x-app-token', 'cookie'].join(','));
    expect(answer?.headers['access-control-allow-headers']).toBe(requested.join(', '));

    const configured = await preflightOf(policyOf({ origin: APP, allowHeaders: ['X-App-Token'] }), APP, 'authorization,x-app-token');
    expect(configured?.headers['access-control-allow-headers']).toBe('authorization, x-app-token');
  });

  test('no requested headers, no Access-Control-Allow-Headers', async () => {
    const answer = await policyOf(APP).preflight({ method: 'OPTIONS', origin: APP, requestMethod: 'POST', requestHeaders: undefined, request });
    expect(answer?.headers).not.toHaveProperty('access-control-allow-headers');
  });

  test('with true: Allow-Origin *, and Vary only for the echoed request headers', async () => {
    const answer = await preflightOf(policyOf(true), 'https://anyone.example');
    expect(answer?.headers).toMatchObject({ 'access-control-allow-origin': '*', vary: 'Access-Control-Request-Headers' });
  });

  test.each([
    ['a POST', { method: 'POST', origin: APP, requestMethod: undefined }],
    ['an OPTIONS without Origin', { method: 'OPTIONS', origin: undefined, requestMethod: 'POST' }],
    ['an OPTIONS without Access-Control-Request-Method', { method: 'OPTIONS', origin: APP, requestMethod: undefined }],
  ])('%s is no preflight: undefined, the relay carries on', async (_, input) => {
    expect(await policyOf(APP).preflight({ ...input, requestHeaders: 'content-type', request })).toBeUndefined();
  });

  test("a refused origin: 403 origin_not_allowed in OpenAI's format, without allow headers and without naming the origin", async () => {
    const rejection = await refusalOf(preflightOf(policyOf(APP), 'https://attacker.example'));
    expect(rejection).toMatchObject({ status: 403, code: 'origin_not_allowed', type: 'invalid_request_error', headers: { vary: 'Origin' } });
    expect(rejection.message).toBe("This origin is not allowed by the relay's CORS policy.");
  });

  test('maxAgeSeconds sets Access-Control-Max-Age, 0 included', async () => {
    for (const maxAgeSeconds of [0, 600, 86_400]) {
      const answer = await preflightOf(policyOf({ origin: APP, maxAgeSeconds }), APP);
      expect(answer?.headers['access-control-max-age']).toBe(String(maxAgeSeconds));
    }
  });

  test('a hostile Access-Control-Request-Headers: junk dropped, duplicates merged, at most 64 names looked at', async () => {
    const policy = policyOf(APP);
    const junk = await preflightOf(policy, APP, ' Authorization , content-type,AUTHORIZATION,x-stainless-os\r\nset-cookie: a,(bad),,x y');
    expect(junk?.headers['access-control-allow-headers']).toBe('authorization, content-type');

    const many = Array.from({ length: 100_000 }, (_, index) => `x-stainless-h${index}`).join(',');
    const granted = (await preflightOf(policy, APP, many))?.headers['access-control-allow-headers'];
    expect(granted?.split(', ')).toHaveLength(64);
  });
});

describe('answers to actual requests', () => {
  test('an allowed origin gets its origin echoed, Vary: Origin and every header the relay forwards exposed', async () => {
    const headers = await policyOf([APP]).responseHeaders(APP, request);
    expect(headers).toMatchObject({ 'access-control-allow-origin': APP, vary: 'Origin' });
    expect(headers).not.toHaveProperty('access-control-allow-credentials');
    const exposed = headers['access-control-expose-headers'].split(', ');
    expect(exposed).toEqual(expect.arrayContaining(['x-request-id', 'x-stream-id', 'retry-after', 'retry-after-ms', 'openai-processing-ms']));
    expect(exposed).not.toContain('*');

    // What OpenAI sends; everything the relay forwards of it must be readable by the page.
    const upstream = {
      'x-request-id': 'req_1',
      'openai-processing-ms': '12',
      'retry-after': '2',
      'retry-after-ms': '2000',
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-limit-tokens': '30000',
      'x-ratelimit-remaining-requests': '499',
      'x-ratelimit-remaining-tokens': '29000',
      'x-ratelimit-reset-requests': '120ms',
      'x-ratelimit-reset-tokens': '2s',
      'set-cookie': 'a=b',
    };
    for (const name of Object.keys(forwardedResponseHeaders(upstream))) expect(exposed).toContain(name);
  });

  test('exposeHeaders adds names to the list', async () => {
    const headers = await policyOf({ origin: APP, exposeHeaders: ['X-Served-By'] }).responseHeaders(APP, request);
    expect(headers['access-control-expose-headers'].split(', ')).toEqual(expect.arrayContaining(['x-request-id', 'x-served-by']));
  });

  test('a refused origin gets no CORS header but Vary: Origin, so no cache serves it to an allowed one', async () => {
    expect(await policyOf(APP).responseHeaders('https://attacker.example', request)).toEqual({ vary: 'Origin' });
  });

  test('a request without Origin (curl, a server) is unaffected, and the origin function is not asked', async () => {
    const asked: string[] = [];
    const policy = policyOf((origin) => {
      asked.push(origin);
      return true;
    });
    expect(await policy.responseHeaders(undefined, request)).toEqual({});
    expect(await policyOf(true).responseHeaders(undefined, request)).toEqual({});
    expect(asked).toEqual([]);
  });
});

describe('credentials', () => {
  test('Allow-Credentials on the preflight and on the answer, with the origin echoed, never *', async () => {
    const policy = policyOf({ origin: [APP], credentials: true });
    expect((await preflightOf(policy, APP))?.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
    });
    expect(await policy.responseHeaders(APP, request)).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
    expect(await policy.responseHeaders('https://attacker.example', request)).toEqual({ vary: 'Origin' });
  });

  test('credentials for any origin is refused when the policy is built', () => {
    expect(() => corsPolicy({ origin: true, credentials: true })).toThrow(
      new TypeError('CORS credentials for any origin (true) would let every site act as your users; list the origins instead'),
    );
  });
});

describe("the 'null' origin (sandboxed iframes, file:// pages)", () => {
  test('refused by origins and RegExps, even one that matches anything', async () => {
    for (const option of [APP, [APP], /.*/, [/.*/]] as RelayCorsOption<FakeRequest>[]) {
      expect(await isAllowed(policyOf(option), 'null')).toBe(false);
      await expect(preflightOf(policyOf(option), 'null')).rejects.toBeInstanceOf(RelayRejection);
    }
    expect(await isAllowed(policyOf(/.*/), APP)).toBe(true);
  });

  test("allowed when named: 'null' in the option, or a function that returns true for it", async () => {
    expect(await policyOf(['null']).responseHeaders('null', request)).toMatchObject({ 'access-control-allow-origin': 'null' });
    expect(await isAllowed(policyOf((origin) => origin === 'null'), 'null')).toBe(true);
  });
});

describe('hostile origins', () => {
  const hostile = [
    'https://app.example.com\r\nset-cookie: a=b',
    'https://app.example.com\u0000',
    'https://app.example.com\t',
    `https://${'a'.repeat(100_000)}.example.com`,
    `${APP}, https://attacker.example`,
    `${APP}/`,
    `${APP}/path`,
    'https://user@app.example.com',
    'https://äpp.example.com',
    'app.example.com',
    '',
    ' null',
  ];

  test.each([
    ['a function that allows everything', () => true],
    ['true', true],
  ] as [string, RelayCorsOption<FakeRequest>][])('refused, never echoed, never passed on, even by %s', async (_, option) => {
    const asked: string[] = [];
    const policy = policyOf(typeof option === 'function' ? (origin) => (asked.push(origin), true) : option);
    for (const origin of hostile) {
      expect(await policy.responseHeaders(origin, request)).not.toHaveProperty('access-control-allow-origin');
      await expect(preflightOf(policy, origin)).rejects.toMatchObject({ status: 403 });
    }
    expect(asked).toEqual([]);
  });
});

describe('an origin function that fails', () => {
  test.each([
    [
      'throws',
      () => {
        throw new Error('directory down');
      },
    ],
    ['rejects', () => Promise.reject(new Error('directory down'))],
  ] as [string, RelayCorsOption<FakeRequest>][])('%s: the origin is refused and the error reported', async (_, check) => {
    const reported: unknown[] = [];
    const policy = policyOf(check, (error) => reported.push(error));
    expect(await policy.responseHeaders(APP, request)).toEqual({ vary: 'Origin' });
    await expect(preflightOf(policy, APP)).rejects.toMatchObject({ status: 403, code: 'origin_not_allowed' });
    expect(reported).toEqual([new Error('directory down'), new Error('directory down')]);
  });

  test('a report that throws too changes nothing', async () => {
    const policy = policyOf(
      () => Promise.reject(new Error('directory down')),
      () => {
        throw new Error('logger down');
      },
    );
    expect(await policy.responseHeaders(APP, request)).toEqual({ vary: 'Origin' });
  });
});

describe('an option that cannot mean what it says fails when the policy is built', () => {
  test.each<[RelayCorsOption<FakeRequest>, string]>([
    [`${APP}/`, `'${APP}/' is not a CORS origin (scheme://host[:port], as browsers send it); write '${APP}'`],
    ['https://App.Example.com:443', `'https://App.Example.com:443' is not a CORS origin (scheme://host[:port], as browsers send it); write '${APP}'`],
    [[`${APP}/chat`], `'${APP}/chat' is not a CORS origin (scheme://host[:port], as browsers send it); write '${APP}'`],
    ['app.example.com', "'app.example.com' is not a CORS origin (scheme://host[:port], as browsers send it)"],
    ['*', "'*' is not a CORS origin; pass true to allow any origin"],
    [[APP, 42 as unknown as string], 'A CORS origin is a string, a RegExp, a list of them, a function or true, not number'],
    [{ origin: APP, maxAgeSeconds: -1 }, 'CORS maxAgeSeconds takes whole seconds from 0 to 86400, not -1'],
    [{ origin: APP, maxAgeSeconds: 600_000 }, 'CORS maxAgeSeconds takes whole seconds from 0 to 86400, not 600000'],
    [{ origin: APP, maxAgeSeconds: 1.5 }, 'CORS maxAgeSeconds takes whole seconds from 0 to 86400, not 1.5'],
    [{ origin: APP, allowHeaders: ['x app'] }, "'x app' is not a header name (CORS allowHeaders)"],
    [{ origin: APP, exposeHeaders: ['x-a\r\n'] }, "'x-a\r\n' is not a header name (CORS exposeHeaders)"],
  ])('%p', (option, message) => {
    expect(() => corsPolicy(option)).toThrow(new TypeError(message));
  });
});

describe('openai-rx relay --cors', () => {
  test("origins pass through, '*' alone is any origin, none is off", () => {
    expect(corsFrom(undefined)).toBeUndefined();
    expect(corsFrom(['*'])).toBe(true);
    expect(corsFrom([APP, 'http://localhost:5173'])).toEqual([APP, 'http://localhost:5173']);
  });

  test.each([
    [['*', APP], "--cors '*' allows any origin; list origins or give '*' alone"],
    [[`${APP}/`], `--cors: '${APP}/' is not a CORS origin (scheme://host[:port], as browsers send it); write '${APP}'`],
  ])('%p is a usage error', (origins, message) => {
    expect(() => corsFrom(origins)).toThrow(new UsageError(message));
  });
});
