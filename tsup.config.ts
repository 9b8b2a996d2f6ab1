import { defineConfig, type Options } from 'tsup'

const shared: Options = {
  sourcemap: false,
  treeshake: true,
  target: 'node20',
  platform: 'node',
  external: ['koa', 'express', 'ioredis', 'hono', '@trpc/server'],
}

export default defineConfig([
  {
    ...shared,
    entry: {
      index: 'src/index.ts',
      protocol: 'src/protocol/index.ts',
      koa: 'src/adapters/koa.ts',
      express: 'src/adapters/express.ts',
      fetch: 'src/adapters/fetch.ts',
      hono: 'src/adapters/hono.ts',
      trpc: 'src/adapters/trpc.ts',
      testing: 'src/testing/index.ts',
      redis: 'src/stores/redis.ts',
      client: 'src/client/index.ts',
    },
    format: ['esm', 'cjs'],
    dts: true,
    // One shared chunk per format: `.` and `./koa` use the same EvotorError and context store.
    splitting: true,
    clean: true,
  },
  {
    // The `evotor-partner` bin (ESM only: it reads import.meta.url).
    ...shared,
    entry: { cli: 'src/cli.ts' },
    format: ['esm'],
    dts: false,
    splitting: false,
    clean: false,
  },
])
