import { OpenAIRxError } from '../errors.js';

/**
 * `promise`, or a rejection after `ms`: node-redis gives single commands a timeout but not `MULTI … EXEC`, which
 * would otherwise wait in the client's offline queue for as long as Redis is away.
 *
 * @example
 * await withDeadline(client.multi().xAdd(…).exec(), 5000, 'append to a stream');
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new OpenAIRxError({ message: `Redis did not answer within ${ms} ms (${what})` })), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
