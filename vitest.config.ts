import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests import packages by name; this maps each name to its TypeScript source so the suite runs
// without a build and coverage points at src/. Subprocess tests (the CLI) use the built dist/.
const packageDirs: Record<string, string> = {
  '@podcreds/core': 'core',
  '@podcreds/refresh': 'refresh',
  '@podcreds/token': 'token',
  '@podcreds/container': 'container',
  '@podcreds/sts': 'sts',
  '@podcreds/web-identity': 'web-identity',
  '@podcreds/chain': 'chain',
  '@podcreds/emulator': 'emulator',
  '@podcreds/azure': 'azure',
  podcreds: 'cli',
}
const src = (dir: string, file: string): string =>
  fileURLToPath(new URL(`./packages/${dir}/src/${file}`, import.meta.url))

export default defineConfig({
  resolve: {
    alias: [
      { find: /^@podcreds\/refresh\/shared$/, replacement: src('refresh', 'shared.ts') },
      { find: /^@podcreds\/token\/read$/, replacement: src('token', 'read.ts') },
      ...Object.entries(packageDirs).map(([name, dir]) => ({
        find: new RegExp(`^${name.replace('/', '\\/')}$`),
        replacement: src(dir, 'index.ts'),
      })),
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Issue 17: any connection to a non-loopback address fails the test (children get it too).
    setupFiles: ['./test/support/networkGuardSetup.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
  },
})
