import { createRedactor, type Redactor } from '../redaction.js';
import { escapeForTerminal } from './escapeForTerminal.js';

/** A stderr line longer than this is cut: a verbose error body (2000 characters) and its label fit. */
const MAX_LINE_CHARS = 4096;

/**
 * The CLI's two output streams. stdout carries the answer and nothing else;
 * once its reader goes away (`| head`), writes stop and `onClosed` listeners
 * run instead of an EPIPE crash. stderr carries status, stats, logs and
 * errors, with every secret the CLI was given replaced before it is written.
 * Every stderr line is exactly one line: foreign data in it (a model name, an
 * upstream's message) cannot break it or reach the terminal as an escape sequence.
 */
export class CliOutput {
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  private readonly secrets: string[] = [];
  private redactor: Redactor = createRedactor([]);
  private closed = false;
  private readonly closedListeners = new Set<() => void>();

  constructor(
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {
    this.stdoutIsTTY = Boolean(stdout.isTTY);
    this.stderrIsTTY = Boolean(stderr.isTTY);
    // EPIPE (the reader left) and any other write failure end the output; the command decides what that means.
    stdout.on('error', () => this.close());
    stderr.on('error', () => undefined);
  }

  /** Never written to stderr: API keys given on the command line or found in the environment. */
  addSecrets(...secrets: Array<string | undefined>): void {
    for (const secret of secrets) if (secret) this.secrets.push(secret);
    this.redactor = createRedactor(this.secrets);
  }

  get outputClosed(): boolean {
    return this.closed;
  }

  /** Writes answer text; does nothing once the reader has gone. */
  out(text: string): void {
    if (!this.closed && text) this.stdout.write(text);
  }

  /** Writes one line to stderr: secrets removed, then control characters escaped (see {@link printable}). */
  err(line: string): void {
    this.stderr.write(`${this.printable(line, MAX_LINE_CHARS)}\n`);
  }

  /** Writes the CLI's own terminal text to stderr as it is (the live status' escape sequences, the help), secrets removed. */
  errRaw(text: string): void {
    this.stderr.write(this.redact(text));
  }

  redact(text: string): string {
    return this.redactor.text(text);
  }

  /** Foreign text as one safe line: secrets removed first (a cut never leaves part of a key), then escaped and cut to `maxChars`. */
  printable(text: string, maxChars?: number): string {
    return escapeForTerminal(this.redact(text), maxChars);
  }

  /** Runs `listener` once stdout's reader has gone; returns a function that removes it. */
  onClosed(listener: () => void): () => void {
    if (this.closed) {
      listener();
      return () => undefined;
    }
    this.closedListeners.add(listener);
    return () => this.closedListeners.delete(listener);
  }

  /** Resolves once everything written so far was handed to the operating system. */
  async flush(): Promise<void> {
    await Promise.all([this.stdout, this.stderr].map((stream) => new Promise<void>((resolve) => {
      if (stream.destroyed || stream.writableEnded) return resolve();
      stream.write('', () => resolve());
    })));
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of [...this.closedListeners]) listener();
    this.closedListeners.clear();
  }
}
