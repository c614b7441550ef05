/** Lets a scrolling panel follow what is appended to it. */
export interface TailFollower {
  /** Content was appended: scroll to the bottom on the next animation frame, unless the reader scrolled up. */
  appended(): void;
  /** A new answer: follow again. */
  reset(): void;
}

/** How close to the bottom still counts as "at the bottom", in pixels. */
const SLACK_PX = 24;

/**
 * Keeps `panel` scrolled to its end while content streams in, at most one
 * scroll per animation frame; a reader who scrolls up stops it, and scrolling
 * back to the end starts it again.
 *
 * @example
 * const tail = followTail(list);
 * list.append(row);
 * tail.appended();
 */
export function followTail(panel: HTMLElement): TailFollower {
  let following = true;
  let scheduled = false;
  let scrolling = false;
  panel.addEventListener('scroll', () => {
    // The panel's own scroll to the end is not the reader moving away.
    if (scrolling) return;
    following = panel.scrollTop + panel.clientHeight >= panel.scrollHeight - SLACK_PX;
  });
  const scroll = () => {
    scheduled = false;
    if (!following) return;
    scrolling = true;
    panel.scrollTop = panel.scrollHeight;
    requestAnimationFrame(() => (scrolling = false));
  };
  return {
    appended() {
      if (scheduled || !following) return;
      scheduled = true;
      requestAnimationFrame(scroll);
    },
    reset() {
      following = true;
      panel.scrollTop = 0;
    },
  };
}
