import type { CliOutput } from './io.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const REDRAW_MS = 100;
const TAB_STOP = 8;

/**
 * A live status on a terminal's stderr. When stdout goes elsewhere (a file, a
 * pipe) the status has a line of its own. When stdout is the same terminal,
 * the status follows the answer text on its current line: it tracks the
 * cursor's column from the text written, draws only where the status fits,
 * with the cursor saved and line wrap off (so it can neither wrap nor
 * scroll), and is erased before the next piece of text goes over it.
 */
export class StatusLine {
  private timer: NodeJS.Timeout | undefined;
  private drawn = false;
  private frame = 0;
  /** The cursor's column after the text written so far (inline mode); `columns` means "at the margin, about to wrap". */
  private column = 0;
  private readonly inline: boolean;
  private readonly dim: (text: string) => string;

  constructor(
    private readonly output: CliOutput,
    /** The status text; `compact` when it is drawn beside the answer text. */
    private readonly render: (compact: boolean) => string,
    private readonly columns: () => number,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.inline = output.stdoutIsTTY;
    this.dim = env.NO_COLOR ? (text) => text : (text) => `\x1b[2m${text}\x1b[22m`;
  }

  start(): void {
    this.draw();
    this.timer = setInterval(() => this.draw(), REDRAW_MS);
  }

  /** Writes a piece of the answer to stdout, around the status. */
  text(text: string): void {
    if (this.inline) this.erase();
    this.output.out(text);
    if (!this.inline) return;
    this.column = advance(this.column, text, this.columns());
    if (this.timer) this.draw();
  }

  /** Writes a whole line to stderr (verbose output) without garbling the status. */
  line(text: string): void {
    this.erase();
    this.output.err(text);
    this.column = 0;
    if (this.timer) this.draw();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.erase();
  }

  private erase(): void {
    if (!this.drawn) return;
    this.output.errRaw(this.inline ? '\x1b[K' : '\r\x1b[2K');
    this.drawn = false;
  }

  private draw(): void {
    const text = `${FRAMES[this.frame++ % FRAMES.length]} ${this.render(this.inline)}`;
    if (!this.inline) {
      this.output.errRaw(`\r\x1b[2K${this.dim(text)}`);
      this.drawn = true;
      return;
    }
    // Two spaces before the status, and room to spare: a column estimate that is a little off never wraps.
    if (this.column + 2 + [...text].length + 2 > this.columns()) {
      this.erase();
      return;
    }
    this.output.errRaw(`\x1b7\x1b[K\x1b[?7l  ${this.dim(text)}\x1b[?7h\x1b8`);
    this.drawn = true;
  }
}

/** The cursor's column after `text` is printed from `column` on a terminal `columns` wide. */
export function advance(column: number, text: string, columns: number): number {
  let at = column;
  for (const char of text) {
    if (char === '\n' || char === '\r') at = 0;
    else if (char === '\t') at = Math.min(columns, (Math.floor(at / TAB_STOP) + 1) * TAB_STOP);
    else if (char === '\b') at = Math.max(0, at - 1);
    else {
      const width = displayWidth(char);
      if (width === 0) continue;
      if (at + width > columns) at = 0;
      at += width;
    }
  }
  return at;
}

const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cc}\p{Cf}]/u;
const WIDE = /[\p{Emoji_Presentation}\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{20000}-\u{3fffd}]/u;

/** Terminal cells a character takes: 0 for combining and control characters, 2 for East Asian wide ones and emoji. */
export function displayWidth(char: string): number {
  if (ZERO_WIDTH.test(char)) return 0;
  return WIDE.test(char) ? 2 : 1;
}
