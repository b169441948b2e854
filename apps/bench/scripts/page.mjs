// `pnpm --filter @deprune/bench-app page [--port N]`: serves the built benchmark page (dist/page;
// `build` first) on 127.0.0.1 (default port 4173) with vite preview, which sends the config's
// cross-origin isolation headers, and prints the URL it serves. A script rather than `vite
// preview` itself: the config's logLevel 'warn' (quiet builds) also hides preview's URL lines.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';

const app = fileURLToPath(new URL('..', import.meta.url));
const portFlag = process.argv.indexOf('--port');
const port = portFlag === -1 ? 4173 : Number(process.argv[portFlag + 1]);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port takes a port number (0: any free port), got '${process.argv[portFlag + 1]}'`);
  process.exit(2);
}
if (!existsSync(join(app, 'dist', 'page', 'index.html'))) {
  console.error('the benchmark page is not built (dist/page): run `npx -y pnpm@12.4.2 --filter @deprune/bench-app build` first');
  process.exit(1);
}
const server = await preview({ configFile: join(app, 'vite.config.ts'), preview: { host: '127.0.0.1', port, strictPort: true } });
const url = server.resolvedUrls?.local[0];
if (url === undefined) {
  console.error('vite preview started but did not say where');
  process.exit(1);
}
console.log(`benchmark page: ${url}`);
