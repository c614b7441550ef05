import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { lastValueFrom } from 'rxjs';
import { createClient } from '../../src/index.node';
import { startMetricsServer } from '../../src/cli/metricsServer';
import { startMockUpstream, type MockUpstream } from '../../src/testing/index.node';
import { CLI_ARGS, cliEnv, killLeftovers, listeningUrl, runCli, startCli, startProcess } from './cliProcess';

// `openai-rx relay --metrics-port N`: Prometheus text from its own loopback server, closed with the relay.

let upstream: MockUpstream;

beforeAll(async () => {
  upstream = await startMockUpstream({ tokenDelayMs: 1 });
});

afterEach(() => killLeftovers());

afterAll(() => upstream.close());

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** GET `url`; an error (a refused connection) rejects. */
function get(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

function metricsUrl(stdout: string): string {
  const match = /metrics \(Prometheus\) at (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(stdout);
  if (!match) throw new Error(`No metrics URL in: ${stdout}`);
  return match[1];
}

test('serves the Prometheus exposition format beside a working relay; SIGTERM closes both', async () => {
  const relay = startCli(['relay', '--port', '0', '--metrics-port', '0', '--upstream', upstream.baseURL], cliEnv({ OPENAI_API_KEY: 'sk-metrics-spec' }));
  await relay.waitFor((stdout) => stdout.includes('metrics (Prometheus) at'), 'the metrics server');
  const stdout = relay.stdout().toString();
  const metrics = metricsUrl(stdout);
  await lastValueFrom(
    createClient({ baseURL: `${listeningUrl(stdout)}/v1` }).chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] }),
  );

  const scrape = await get(metrics);
  expect(scrape.status).toBe(200);
  expect(scrape.headers['content-type']).toMatch(/^text\/plain/);
  // Every line of the text format is a comment (# HELP, # TYPE …) or a sample `name{labels} value`.
  const lines = scrape.body.split('\n').filter((line) => line !== '');
  expect(lines).toContain('# TYPE target_info gauge');
  for (const line of lines) expect(line).toMatch(/^(# .*|[a-zA-Z_:][\w:]*(\{.*\})? \S+)$/);
  expect((await get(metrics.replace(/\/metrics$/, '/other'))).status).toBe(404);

  relay.child.kill('SIGTERM');
  const result = await relay.exited();

  expect(result.code).toBe(0);
  expect(result.stderr).toMatch(/SIGTERM: shutting down\n(.*\n)*stopped\n$/);
  await expect(get(metrics)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
});

test("the metrics server exposes what its telemetry records: a client's request as the four gen_ai histograms", async () => {
  const metrics = await startMetricsServer(0, '127.0.0.1');
  try {
    const client = createClient({ baseURL: upstream.baseURL, telemetry: metrics.telemetry });
    await lastValueFrom(
      client.chat.completions.stream({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi [[mock:tokens=3]]' }], stream_options: { include_usage: true } }),
    );

    const { body } = await get(`${metrics.url}/metrics`);
    const histograms = body.split('\n').filter((line) => line.startsWith('# TYPE gen_ai_'));
    expect(histograms.sort()).toEqual([
      '# TYPE gen_ai_client_operation_duration histogram',
      '# TYPE gen_ai_client_operation_time_per_output_chunk histogram',
      '# TYPE gen_ai_client_operation_time_to_first_chunk histogram',
      '# TYPE gen_ai_client_token_usage histogram',
    ]);
    expect(body).toMatch(/^gen_ai_client_token_usage_sum\{[^}]*gen_ai_token_type="output"[^}]*\} 3$/m);
  } finally {
    await metrics.close();
  }
});

test('without the optional packages: one line naming what to install, exit code 2, nothing listening', async () => {
  // A resolve hook that finds no @opentelemetry package, as in an install without the optional peers.
  const hook = `export async function resolve(specifier, context, next) {
    if (!specifier.startsWith('@opentelemetry/')) return next(specifier, context);
    throw Object.assign(new Error('Cannot find package ' + specifier), { code: 'ERR_MODULE_NOT_FOUND' });
  }`;
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const [tsxFlag, tsx, main] = CLI_ARGS;
  const args = [tsxFlag, tsx, '--import', `data:text/javascript,${encodeURIComponent(register)}`, main];

  const result = await startProcess(process.execPath, [...args, 'relay', '--port', '0', '--metrics-port', '0', '--upstream', upstream.baseURL], cliEnv()).exited();

  expect(result.code).toBe(2);
  const [line] = result.stderr.split('\n');
  expect(line).toBe(
    'openai-rx: --metrics-port needs the optional packages @opentelemetry/api, @opentelemetry/sdk-metrics, @opentelemetry/exporter-prometheus: ' +
      'npm install @opentelemetry/api @opentelemetry/sdk-metrics @opentelemetry/exporter-prometheus',
  );
  expect(result.stdout.toString()).toBe('');
});

test('a metrics port in use: one line and exit code 8, naming --metrics-port', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as AddressInfo;
  try {
    const result = await runCli(['relay', '--port', '0', '--metrics-port', String(port), '--upstream', upstream.baseURL]);

    expect(result.code).toBe(8);
    expect(result.stderr).toBe(`openai-rx: cannot listen on 127.0.0.1:${port}: the address is in use (EADDRINUSE); pick another --metrics-port\n`);
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});

test('a metrics port that is no port number is a usage error', async () => {
  const result = await runCli(['relay', '--metrics-port', 'http', '--upstream', upstream.baseURL]);

  expect(result.code).toBe(2);
  expect(result.stderr).toMatch(/^openai-rx: --metrics-port takes a port number from 0 to 65535, not 'http'\n/);
});
