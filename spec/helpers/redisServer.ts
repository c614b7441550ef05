import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

/**
 * A real `redis-server` (Debian's package: `apt-get install redis-server`) on a free loopback port, without
 * persistence, for the specs of the Redis resume store. `kill()` stops it as a crash would (SIGKILL), `restart()`
 * brings it back, empty, on the same port.
 */
export interface RedisServer {
  url: string;
  port: number;
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const READY = 'Ready to accept connections';

/** Every server still running, killed when the test process exits, however it ends (a test that timed out mid-restart). */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child = await launch(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      await stopChild(child, 'SIGKILL');
    },
    async restart() {
      child = await launch(port);
    },
    async stop() {
      await stopChild(child, 'SIGTERM');
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function launch(port: number): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  const child = spawn(process.env.REDIS_SERVER ?? 'redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    child.on('error', (error: NodeJS.ErrnoException) =>
      fail(error.code === 'ENOENT' ? new Error('redis-server not found: install it (apt-get install redis-server)') : error),
    );
    const exitedEarly = (code: number | null) => fail(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
    child.on('exit', exitedEarly);
    const onOutput = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!output.includes(READY)) return;
      clearTimeout(timer);
      child.off('exit', exitedEarly);
      child.stdout?.off('data', onOutput);
      child.stdout?.resume();
      child.stderr?.resume();
      resolve(child);
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  });
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}
