import type { CliOutput } from './io.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const REDRAW_MS = 100;

/**
 * A live status on a terminal's stderr. When stdout goes elsewhere (a file, a
 * pipe) the status has a line of its own. When stdout is the same terminal,
 * the status is drawn right of the cursor with the cursor saved and line wrap
 * off (so it can neither wrap nor scroll), and erased before each piece of
 * answer text is written over it.
 */
export class StatusLine {
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;
  private frame = 0;
  private readonly inline: boolean;
  private readonly dim: (text: string) => string;

  constructor(
    private readonly output: CliOutput,
    private readonly render: () => string,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.inline = output.stdoutIsTTY;
    this.dim = env.NO_COLOR ? (text) => text : (text) => `\x1b[2m${text}\x1b[22m`;
  }

  start(): void {
    this.draw();
    this.timer = setInterval(() => this.draw(), REDRAW_MS);
  }

  /** Call before writing answer text to stdout. */
  clear(): void {
    if (!this.drawn) return;
    this.output.err(this.inline ? '\x1b[K' : '\r\x1b[2K', false);
    this.drawn = false;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private draw(): void {
    const text = this.dim(`${FRAMES[this.frame++ % FRAMES.length]} ${this.render()}`);
    this.output.err(this.inline ? `\x1b7\x1b[K\x1b[?7l  ${text}\x1b[?7h\x1b8` : `\r\x1b[2K${text}`, false);
    this.drawn = true;
  }
}
