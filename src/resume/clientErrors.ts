import { APIError } from '../errors.js';

/**
 * A resumable relay does not know the stream a client re-attaches to: the id
 * is wrong, or the stream ended longer ago than the relay keeps it. Its
 * status, code and body are the relay's 404 answer. The stream id is not
 * repeated in the error: whoever holds it may read and cancel the stream.
 *
 * @example
 * client.resumeStream(savedId).subscribe({
 *   next: render,
 *   error: (error) => (error instanceof StreamNotFoundError ? sessionStorage.removeItem('streamId') : showError(error)),
 * });
 */
export class StreamNotFoundError extends APIError {
  override name = 'StreamNotFoundError';
}
