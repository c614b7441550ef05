import { OutputValidationError } from '../../src/index.node';
import { toolResultContent } from '../../src/tools/toolResultContent';

const call = { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' };

describe('toolResultContent', () => {
  test('a string result as it is, anything else as JSON, undefined as null', () => {
    expect(toolResultContent(call, { kind: 'result', value: 'sunny' }, [])).toBe('sunny');
    expect(toolResultContent(call, { kind: 'result', value: { tempC: 21 } }, [])).toBe('{"tempC":21}');
    expect(toolResultContent(call, { kind: 'result', value: undefined }, [])).toBe('null');
  });

  test('a result that cannot be written as JSON throws (the loop reports the tool as failed)', () => {
    expect(() => toolResultContent(call, { kind: 'result', value: 10n }, [])).toThrow(TypeError);
  });

  test('failures are an Error sentence the model can act on, bounded in length', () => {
    const invalid = new OutputValidationError({ message: 'The arguments failed the schema at city: too short', text: '{}' });
    expect(toolResultContent(call, { kind: 'invalid-arguments', error: invalid }, [])).toBe(
      'Error: the arguments for get_weather are invalid, so it did not run. The arguments failed the schema at city: too short Call it again with arguments that match its parameters.',
    );
    expect(toolResultContent({ ...call, name: 'nope' }, { kind: 'unknown-tool' }, ['a', 'b'])).toBe('Error: there is no tool named "nope". The tools are: a, b.');
    expect(toolResultContent(call, { kind: 'failed', error: 'offline' }, [])).toBe('Error: get_weather failed: offline');
    const long = toolResultContent(call, { kind: 'failed', error: new Error('x'.repeat(5000)) }, []);
    expect(long).toBe(`Error: get_weather failed: ${'x'.repeat(1000)}…`);
  });
});
