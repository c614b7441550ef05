import { advance, displayWidth } from '../../src/cli/statusLine';

// The live status sits beside the answer on a shared terminal only where it fits: the column it
// computes must follow the terminal's own wrapping, or it would draw over the text.

test('characters take the cells a terminal gives them', () => {
  expect(['a', 'é', '→', '東', '가', '😀', '\u0301', '\u200b'].map(displayWidth)).toEqual([1, 1, 1, 2, 2, 2, 0, 0]);
});

test('the column follows text, line ends, tabs and wide characters', () => {
  expect(advance(0, 'Hello', 80)).toBe(5);
  expect(advance(5, ', world\nNext', 80)).toBe(4);
  expect(advance(3, '\tx', 80)).toBe(9);
  expect(advance(0, '東京', 80)).toBe(4);
  expect(advance(7, 'e\u0301', 80)).toBe(8);
});

test('a full line stays at the margin until the next character wraps it', () => {
  expect(advance(0, 'x'.repeat(10), 10)).toBe(10);
  expect(advance(10, 'y', 10)).toBe(1);
  expect(advance(9, '東', 10)).toBe(2);
  expect(advance(0, 'z'.repeat(25), 10)).toBe(5);
});
