import { lastValueFrom, of, tap, toArray, type OperatorFunction } from 'rxjs';
import { RefusalError } from '../../src/errors';
import type { ChatCompletionChunk } from '../../src/openai/chatTypes';
import { contentDeltas } from '../../src/openai/contentDeltas';
import { MAX_REFUSAL_CHARS } from '../../src/openai/refusalText';
import { reasoningDeltas } from '../../src/openai/reasoningDeltas';
import { toolCallDeltas } from '../../src/openai/toolCallDeltas';
import { deltaChunk } from '../helpers/chatFrames';

const through = <T>(operator: OperatorFunction<ChatCompletionChunk, T>, ...chunks: unknown[]) =>
  lastValueFrom(of(...(chunks as ChatCompletionChunk[])).pipe(operator, toArray()));

describe('contentDeltas', () => {
  const chunks = [
    deltaChunk({ role: 'assistant', content: '' }, null, 0),
    deltaChunk({ content: 'Hel' }, null, 0),
    deltaChunk({ content: 'Other' }, null, 1),
    { choices: [{ index: 0, finish_reason: null }] },
    { choices: [] },
    deltaChunk({ content: null, refusal: null }, null, 0),
    deltaChunk({ content: 'lo' }, 'stop', 0),
  ];

  test("choice 0's text, empty and missing deltas skipped", async () => {
    expect(await through(contentDeltas(), ...chunks)).toEqual(['Hel', 'lo']);
  });

  test('another choice', async () => {
    expect(await through(contentDeltas({ choice: 1 }), ...chunks)).toEqual(['Other']);
  });

  test('a refusal in the followed choice: its text passes, then a RefusalError with the whole refusal', async () => {
    const texts: string[] = [];
    const refused = of(
      deltaChunk({ role: 'assistant', content: 'Well', refusal: '' }, null, 0),
      deltaChunk({ refusal: 'I cannot ' }, null, 0),
      deltaChunk({ refusal: 'refused elsewhere' }, null, 1),
      deltaChunk({ content: '.', refusal: 'help.' }, 'stop', 0),
    ).pipe(contentDeltas() as OperatorFunction<unknown, string>);
    const error = await lastValueFrom(refused.pipe(tap((text) => texts.push(text)))).catch((failure: unknown) => failure);
    expect(texts).toEqual(['Well', '.']);
    expect(error).toBeInstanceOf(RefusalError);
    expect(error).toMatchObject({ refusal: 'I cannot help.' });
  });

  test('an upstream that never stops refusing: the refusal kept is bounded', async () => {
    const endless = Array.from({ length: 5_000 }, () => deltaChunk({ refusal: 'no '.repeat(100) }, null, 0));
    const error = await lastValueFrom(of(...endless).pipe(contentDeltas() as OperatorFunction<unknown, string>)).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(RefusalError);
    expect((error as RefusalError).refusal).toBe('no '.repeat(100).repeat(60).slice(0, MAX_REFUSAL_CHARS));
  });

  test("another choice's refusal does not end the followed one", async () => {
    const chunks = [deltaChunk({ content: 'ok' }, null, 0), deltaChunk({ refusal: 'no' }, null, 1)];
    expect(await through(contentDeltas(), ...chunks)).toEqual(['ok']);
  });
});

describe('reasoningDeltas', () => {
  test('both spellings', async () => {
    expect(
      await through(
        reasoningDeltas(),
        deltaChunk({ reasoning_content: 'DeepSeek ' }),
        deltaChunk({ reasoning: 'Groq ' }),
        deltaChunk({ reasoning_content: '', reasoning: 'OpenRouter' }),
        deltaChunk({ content: 'answer' }),
        deltaChunk({ reasoning: 'other choice' }, null, 1),
      ),
    ).toEqual(['DeepSeek ', 'Groq ', 'OpenRouter']);
  });
});

describe('toolCallDeltas', () => {
  test('fragments in arrival order with their call index; id and name on the first', async () => {
    expect(
      await through(
        toolCallDeltas(),
        deltaChunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }] }),
        deltaChunk({ tool_calls: [{ index: 0, function: { arguments: '{"x"' } }, { index: 1, id: 'call_b', function: { name: 'g', arguments: '{}' } }] }),
        deltaChunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
        deltaChunk({ tool_calls: [{ index: 0, id: 'other', function: { name: 'h', arguments: '{}' } }] }, null, 1),
      ),
    ).toEqual([
      { index: 0, id: 'call_a', name: 'f', arguments: '' },
      { index: 0, arguments: '{"x"' },
      { index: 1, id: 'call_b', name: 'g', arguments: '{}' },
      { index: 0, arguments: ':1}' },
    ]);
  });

  test('without provider indexes: by id, and fragments without id belong to the latest call', async () => {
    expect(
      await through(
        toolCallDeltas({ choice: 0 }),
        deltaChunk({ tool_calls: [{ id: 'call_a', function: { name: 'f', arguments: '{' } }] }),
        deltaChunk({ tool_calls: [{ id: 'call_b', function: { name: 'g', arguments: '[' } }] }),
        deltaChunk({ tool_calls: [{ id: 'call_a', function: { arguments: '}' } }] }),
        deltaChunk({ tool_calls: [{ id: '', function: { arguments: ']' } }] }),
      ),
    ).toEqual([
      { index: 0, id: 'call_a', name: 'f', arguments: '{' },
      { index: 1, id: 'call_b', name: 'g', arguments: '[' },
      { index: 0, id: 'call_a', arguments: '}' },
      { index: 1, arguments: ']' },
    ]);
  });

  test("a custom tool's call: its name, and pieces of its free-text input as arguments", async () => {
    expect(
      await through(
        toolCallDeltas(),
        deltaChunk({ tool_calls: [{ index: 0, id: 'call_c', type: 'custom', custom: { name: 'run_sql', input: '' } }] }),
        deltaChunk({ tool_calls: [{ index: 0, custom: { input: 'SELECT ' } }] }),
        deltaChunk({ tool_calls: [{ index: 0, custom: { input: '1' } }] }),
      ),
    ).toEqual([
      { index: 0, id: 'call_c', name: 'run_sql', arguments: '' },
      { index: 0, arguments: 'SELECT ' },
      { index: 0, arguments: '1' },
    ]);
  });
});
