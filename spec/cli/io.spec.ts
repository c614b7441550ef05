import { PassThrough } from 'node:stream';
import { CliOutput } from '../../src/cli/io';

// Every stderr line the CLI writes is one line, without secrets and without anything a terminal acts on.

function captured(): { output: CliOutput; stderr: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { output: new CliOutput(stdout as unknown as NodeJS.WriteStream, stderr as unknown as NodeJS.WriteStream), stderr: () => text };
}

test('err() writes exactly one line: line breaks and escape sequences in it are shown, not obeyed', () => {
  const { output, stderr } = captured();
  output.err('relay error: Error: boom\r\nPOST /v1/forged · 200 completed\x1b]0;pwned\x07\u009b2J');
  expect(stderr()).toBe('relay error: Error: boom\\r\\nPOST /v1/forged · 200 completed\\x1b]0;pwned\\x07\\x9b2J\n');
});

test('a secret is removed before a long line is cut, so no part of it is left at the cut', () => {
  const { output, stderr } = captured();
  const key = 'sk-secret-key-0123456789abcdef';
  output.addSecrets(key);
  // The key straddles the 4096-character bound of a line.
  output.err(`${'x'.repeat(4080)}${key}${'y'.repeat(100)}`);
  expect(stderr()).not.toContain('sk-secret');
  expect(stderr()).toContain('x[redacted]y');
  expect(stderr().split('\n')).toHaveLength(2);
});

test('printable() bounds one field: secrets removed, then escaped and cut', () => {
  const { output } = captured();
  output.addSecrets('ollama');
  expect(output.printable('bad key ollama\n', 100)).toBe('bad key [redacted]\\n');
  expect(output.printable(`ollama${'z'.repeat(50)}`, 12)).toBe('[redacted]zz… (60 characters)');
});

test('errRaw() passes the CLI\'s own terminal sequences (the live status) through, secrets still removed', () => {
  const { output, stderr } = captured();
  output.addSecrets('sk-abc');
  output.errRaw('\r\x1b[2K\x1b[2mwaiting sk-abc\x1b[22m');
  expect(stderr()).toBe('\r\x1b[2K\x1b[2mwaiting [redacted]\x1b[22m');
});
