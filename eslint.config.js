// Flat config: typescript-eslint's recommended rules without type information, so it stays fast;
// `tsc --noEmit` in `npm run lint` does the type checking.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['dist/', 'node/', 'testing/', 'coverage/', '.bench-tmp/', 'examples/angular/', '**/node_modules/'],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: globals.node,
    },
    rules: {
      // A `_` prefix marks a positional parameter that must be accepted but is not used.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      // `let x; ... x = start(callbacks)` where the callbacks read `x` and may run before the assignment
      // returns: `const` there would throw in the temporal dead zone.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Specs poke into JSON responses of many shapes field by field.
    files: ['spec/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
