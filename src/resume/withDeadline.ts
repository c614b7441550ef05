import { OpenAIRxError } from '../errors.js';

/** When a connection last answered one of the commands sent on it (set by {@link withDeadline} at each answer). */
export interface ConnectionAnswers {
  lastAnswerAt: number;
}

/**
 * `promise`, or a rejection after `ms`: node-redis gives single commands a timeout but not `MULTI … EXEC`, which
 * would otherwise wait in the client's offline queue for as long as Redis is away.
 *
 * With `connection`, the `ms` count from its last answer instead: a command queued behind many others on a busy
 * connection that keeps answering waits its turn; one on a connection that stopped answering fails `ms` after its
 * last answer (or after it was sent). Either way the verdict waits until the replies already received were read:
 * on a process too busy to read them at once, an answer that arrived in time still wins.
 *
 * @example
 * await withDeadline(client.multi().xAdd(…).exec(), 5000, 'append to a stream', commandsAnswers);
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string, connection?: ConnectionAnswers): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settled = false;
  const deadline = new Promise<never>((_resolve, reject) => {
    const judge = () => {
      if (settled) return;
      const quietMs = connection ? Date.now() - connection.lastAnswerAt : ms;
      if (quietMs < ms) timer = setTimeout(readThenJudge, ms - quietMs);
      else reject(new OpenAIRxError({ message: `Redis did not answer within ${ms} ms (${what})` }));
    };
    // Timers run before the poll phase reads the sockets: judge after it.
    const readThenJudge = () => void setImmediate(judge);
    timer = setTimeout(readThenJudge, ms);
  });
  const answered = connection
    ? promise.then((value) => {
        connection.lastAnswerAt = Date.now();
        return value;
      })
    : promise;
  return Promise.race([answered, deadline]).finally(() => {
    settled = true;
    clearTimeout(timer);
  });
}
