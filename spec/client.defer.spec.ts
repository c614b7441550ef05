import { InvalidRequestError, createClient } from '../src/index.node';
import { scriptedTransport } from '../src/testing';
import { record } from './helpers/streams';

describe('requests are built when subscribed, not when the Observable is made', () => {
  test('circular params: stream() returns an Observable that errors with InvalidRequestError, and nothing is sent', async () => {
    const transport = scriptedTransport({ body: 'data: [DONE]\n\n' });
    const client = createClient({ baseURL: 'https://api.test/v1', apiKey: 'sk-defer', transport });
    const message: Record<string, unknown> = { role: 'user', content: 'hi' };
    message.self = message;
    const params = { model: 'm', messages: [message] };
    const stream$ = client.chat.completions.stream(params as never);
    expect(transport.requests).toHaveLength(0);
    const recording = record(stream$);
    await recording.done;
    expect(recording.error).toBeInstanceOf(InvalidRequestError);
    expect((recording.error as Error).message).toMatch(/^The request body cannot be sent as JSON: /);
    expect(transport.requests).toHaveLength(0);
  });

  test('params changed after stream() and before subscribe are what is sent: the body is built at subscribe', async () => {
    const transport = scriptedTransport({ body: 'data: [DONE]\n\n' });
    const client = createClient({ baseURL: 'https://api.test/v1', apiKey: 'sk-defer', transport });
    const params = { model: 'before', messages: [{ role: 'user' as const, content: 'hi' }] };
    const events$ = client.chat.completions.events(params);
    params.model = 'after';
    await record(events$).done;
    expect(transport.requests[0].json).toMatchObject({ model: 'after', stream: true });
  });
});
