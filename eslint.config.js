// ESLint flat config: @eslint/js recommended plus typescript-eslint's type-checked recommended rules.
// `npm run lint` runs this and then `tsc --noEmit`, so type errors are tsc's job, not ESLint's.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // Built or generated output, and the .proto sources with their generator script.
  globalIgnores(['dist/', 'node_modules/', 'coverage/', 'docs/api/', 'src/api/gen/', 'proto/']),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: {
      reportUnusedDisableDirectives: 'error',
    },
    rules: {
      // Walking a linked structure starts at `this` (`for (let node = this; ...)`); that is not the
      // closure aliasing this rule is about.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
      // `_`-prefixed names are how an element says "this part of the interface is not needed here".
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // chai assertions are property reads: `expect(x).to.be.true`.
      'no-unused-expressions': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
      // Tests hand deliberately malformed values to typed APIs to prove they are rejected.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // Fake `next` handlers and generators implement async interfaces without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Plain JavaScript (this file) is outside tsconfig.json: lint it without type information.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
