interface SignalWatch {
  callbacks: Set<() => void>;
  listener: () => void;
}

const watches = new WeakMap<AbortSignal, SignalWatch>();

/**
 * Calls `callback` when `signal` aborts; returns the function that stops
 * watching. However many streams share one signal (an app-wide "cancel all"),
 * the signal carries a single listener while any of them watches it and none
 * once they are done: no MaxListenersExceededWarning past ten streams, and
 * nothing left behind on a long-lived signal.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let watch = watches.get(signal);
  if (!watch) {
    const callbacks = new Set<() => void>();
    const listener = () => {
      for (const each of [...callbacks]) each();
    };
    watch = { callbacks, listener };
    watches.set(signal, watch);
    signal.addEventListener('abort', listener);
  }
  const { callbacks, listener } = watch;
  callbacks.add(callback);
  return () => {
    if (!callbacks.delete(callback) || callbacks.size > 0) return;
    signal.removeEventListener('abort', listener);
    watches.delete(signal);
  };
}
