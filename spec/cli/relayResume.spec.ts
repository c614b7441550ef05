import { lastValueFrom, toArray } from 'rxjs';
import { buildClient } from '../../src/client';
import type { SseFrame } from '../../src/sse/types';
import { undiciTransport } from '../../src/transport/undiciTransport';
import { startServer, type TestServer } from '../helpers/server';
import { record } from '../helpers/streams';
import { startTcpProxy, type TcpProxy } from '../helpers/tcpProxy';
import { gatedProvider, rawRequest } from '../relay/relayHelpers';
import { cliEnv, killLeftovers, listeningUrl, startCli } from './cliProcess';

// `openai-rx relay --resume` as a real process, a client in resume mode reaching it through a TCP proxy a test cuts.

const params = { model: 'm', messages: [{ role: 'user' as const, content: 'hi' }] };

let upstream: TestServer | undefined;
let proxy: TcpProxy | undefined;

afterEach(async () => {
  killLeftovers();
  await proxy?.close();
  await upstream?.close();
  proxy = upstream = undefined;
});

const eventIds = (frames: SseFrame[]) => frames.flatMap((frame) => (frame.type === 'event' ? [frame.id] : []));

test('a stream cut mid-answer resumes through the CLI relay; its log shows only the first six characters of the stream id', async () => {
  const provider = gatedProvider(3);
  upstream = await startServer(provider.handler);
  const relay = startCli(['relay', '--port', '0', '--resume', '--upstream', upstream.url], cliEnv({ OPENAI_API_KEY: 'sk-resume-spec' }));
  await relay.waitFor((stdout) => stdout.includes('listening on'), 'the relay to listen');
  expect(relay.stdout().toString()).toMatch(/ \(resume mode\)\n$/);
  proxy = await startTcpProxy(listeningUrl(relay.stdout().toString()));
  const client = buildClient({ baseURL: `${proxy.url}/v1`, apiKey: 'sk-page', transport: undiciTransport() });

  let streamId = '';
  const cut = record(client.chat.completions.events(params, { resume: { initialDelayMs: 0 }, head: (head) => (streamId = head.streamId ?? '') }));
  await cut.until(() => cut.values.length === 3, 'a comment, event 1, a comment');
  expect(streamId).toMatch(/^[A-Za-z0-9_-]{24,}$/);
  proxy.cut();
  await proxy.waitForAccepted(2);
  provider.release();
  await cut.done;
  expect(cut.completed).toBe(true);
  expect(eventIds(cut.values)).toEqual(['1', '2', '3', '4', '5']);
  expect(upstream.requests).toHaveLength(1);
  const uncut = await lastValueFrom(client.chat.completions.events(params).pipe(toArray()));
  expect(cut.values).toEqual(uncut);

  // The cancel of a finished stream names the id too; its log line must not either.
  const cancel = await rawRequest(`${listeningUrl(relay.stdout().toString())}/v1/streams/${streamId}/cancel`, { method: 'POST' });
  expect(cancel.status).toBe(409);
  await relay.waitFor(
    (_, stderr) => /^GET \/v1\/streams\//m.test(stderr) && /^POST \/v1\/streams\/.*\/cancel · /m.test(stderr),
    'the re-attach and the cancel in the log',
  );

  const log = relay.stderr();
  const shown = `/v1/streams/${streamId.slice(0, 6)}…`;
  expect(log).toMatch(new RegExp(`^GET ${escapeRegExp(shown)} · 200 completed · `, 'm'));
  expect(log).toMatch(new RegExp(`^POST ${escapeRegExp(shown)}/cancel · 409 rejected · `, 'm'));
  // Never the whole id, nor more of it than six characters.
  expect(log).not.toContain(streamId.slice(0, 7));
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
