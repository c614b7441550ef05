import { watchedList } from '../helpers/changes';
import { chatData, sseHead, startServer, type TestServer } from '../helpers/server';
import { cliEnv, killLeftovers, listeningUrl, startCli } from './cliProcess';
import { openSocket } from './rawSocket';

// The CLI relay is createRelay on its own server: a client that pipelines requests and leaves costs one upstream
// stream, aborted when it leaves, and every request is logged once as client-closed.

let upstream: TestServer | undefined;

afterEach(async () => {
  killLeftovers();
  await upstream?.close();
  upstream = undefined;
});

test.each([2, 300])('%i pipelined streams, then the client leaves: one upstream stream, aborted; every request logged client-closed', async (count) => {
  const firstTokens = watchedList<'sent'>();
  upstream = await startServer((_req, res) => {
    sseHead(res);
    res.write(chatData('Go'), () => firstTokens.push('sent'));
  });
  const relay = startCli(['relay', '--port', '0', '--upstream', upstream.url], cliEnv({ OPENAI_API_KEY: 'sk-cli-pipelining-0123456789' }));
  await relay.waitFor((stdout) => stdout.includes('listening on'), 'the relay to listen');
  const url = listeningUrl(relay.stdout().toString());
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Go' }] });
  const request = `POST /v1/chat/completions HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  const socket = await openSocket(url);
  socket.on('error', () => undefined);
  socket.write(request.repeat(count));

  await firstTokens.reaches(1, 'the first upstream stream');
  socket.destroy();
  // The first request's answer had started (200); the others never had one (499).
  const closedLines = (stderr: string) => (stderr.match(/ (200|499) client-closed /g) ?? []).length;
  await relay.waitFor((_, stderr) => closedLines(stderr) === count, `${count} client-closed log lines`);
  await upstream.until(() => upstream?.openSockets() === 0, 'every upstream socket to close');
  // Only the request at the head of the connection reached upstream: the others were waiting for their turn.
  expect(upstream.requests).toHaveLength(1);
  expect(relay.child.exitCode).toBeNull();
});
