/**
 * Who reads a generation, for its owner: readers on the owner's instance count directly; a reader elsewhere is
 * known from its instance's announcements (attached, again every `leaseMs / 3`, detached) and counts until
 * `leaseMs` after the last one, so a reader whose instance died stops counting by itself. Once no reader has been
 * attached for `abandonAfterMs`, the abandon callback runs (once).
 *
 * @example
 * const readers = new AttachedReaders(3000);
 * readers.onAbandoned(30_000, () => upstream.abort());
 * readers.attachLocal(); // … readers.detachLocal();
 */
/** Instances remembered per generation; announcements come through Redis, which anyone with access can publish to. */
const MAX_REMOTE_INSTANCES = 1024;

export class AttachedReaders {
  private local = 0;
  /** Instance id → when its readers stop counting, unless it speaks again. */
  private readonly remote = new Map<string, number>();
  /** The last time a reader stopped counting (or the watch began). */
  private lastAttached = Date.now();
  private abandon: { afterMs: number; callback: () => void } | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly leaseMs: number) {}

  attachLocal(): void {
    this.local++;
    this.update();
  }

  /** A reader on this instance is attached. */
  get attachedHere(): boolean {
    return this.local > 0;
  }

  detachLocal(): void {
    this.local = Math.max(0, this.local - 1);
    if (this.local === 0) this.lastAttached = Date.now();
    this.update();
  }

  /** An instance said it has readers attached (`attached`) or no longer has any. */
  heard(instance: string, attached: boolean): void {
    if (attached) {
      if (this.remote.size >= MAX_REMOTE_INSTANCES && !this.remote.has(instance)) return;
      this.remote.set(instance, Date.now() + this.leaseMs);
    } else if (this.remote.delete(instance)) {
      this.lastAttached = Date.now();
    }
    this.update();
  }

  onAbandoned(afterMs: number, callback: () => void): void {
    this.abandon = { afterMs, callback };
    this.lastAttached = Date.now();
    this.update();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.abandon = undefined;
  }

  /** When the generation counts as abandoned if nothing changes; `undefined` while a local reader is attached. */
  private deadline(afterMs: number): number | undefined {
    if (this.local > 0) return undefined;
    const now = Date.now();
    for (const [instance, until] of this.remote) {
      if (until > now) continue;
      this.remote.delete(instance);
      this.lastAttached = Math.max(this.lastAttached, until);
    }
    return Math.max(this.lastAttached, ...this.remote.values()) + afterMs;
  }

  private update(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.abandon) return;
    const { afterMs, callback } = this.abandon;
    const deadline = this.deadline(afterMs);
    if (deadline === undefined) return;
    const delay = deadline - Date.now();
    if (delay <= 0) {
      this.abandon = undefined;
      callback();
      return;
    }
    this.timer = setTimeout(() => this.update(), delay);
    this.timer.unref();
  }
}
