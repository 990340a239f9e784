// node:http, loaded with require rather than import. An ES module import of a built-in module reads every one
// of its exports, and on Node.js 22 and later node:http's WebSocket, CloseEvent and MessageEvent are getters
// that load undici, and with it crypto, tls, http2, zlib and worker_threads: 14 MiB resident on the image's
// Node.js 24 for code no role calls (nodejs/node#59686; bench/RESULTS.md#start-up-footprint). require reads
// nothing until it is used. Types come from `import type`, which loads nothing.
import { createRequire } from 'node:module';
import type * as Http from 'node:http';

export const http = createRequire(import.meta.url)('node:http') as typeof Http;
