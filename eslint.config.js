import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

const noElectron = { name: 'electron', message: 'Only main/index.ts and preload/index.ts may import electron (it throws where no Electron binary exists).' };

export default tseslint.config(
  { ignores: ['out/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        { paths: [noElectron] },
      ],
    },
  },
  {
    // A forgotten await on the engine's async API is the bug class its storage port invites: type-aware, so lint catches it.
    files: ['main/**/*.ts', 'test/**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['main/index.ts', 'preload/index.ts', 'test/e2e/electron/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/main/**'], message: 'The renderer never imports main/.' }] }],
    },
  },
  {
    // The house's floors: the engine knows no placement; the wire protocol is shared by server and client, so neither imports the other.
    files: ['main/engine/**/*.ts', 'main/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noElectron], patterns: [{ regex: '^(\\.\\./)+(backends|server|ipc|web|cli|snapshots|code|templates)/', message: 'The engine and the wire protocol import only downward: the contract, the engine, the store.' }] }],
    },
  },
  {
    files: ['main/backends/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [noElectron], patterns: [{ regex: '^(\\.\\./)+(server|ipc|web|cli|runbooks)/', message: 'A backend is used by the server, IPC and the CLI; it never imports them (the wire protocol lives in main/protocol/).' }] }],
    },
  },
  {
    files: ['preload/contract/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!zod$|\\./)', message: 'The contract imports nothing but zod.' }] }],
    },
  },
);
