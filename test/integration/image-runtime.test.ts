// The memory policies that depend on the Node.js release, checked on this machine's Node.js and on the one
// the image runs (imageNodeBinary: the same release as the image's base). Each was missing or silently lost
// on the image's Node.js 24 while every figure taken on this machine's Node.js 20 looked fine.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { NODE_RUNTIMES } from '../harness/roles/oci-image.js';

const dist = (file: string): string => new URL(`../../${file}`, import.meta.url).href;

/**
 * Script text defining `hot`, a function whose loop V8 optimizes once it runs often, and `status`, V8's
 * %GetOptimizationStatus of a function (the script runs with --allow-natives-syntax).
 */
const HOT_FUNCTION = `
  const hot = new Function('a', 'let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * 2; return s;');
  const status = new Function('f', 'return %GetOptimizationStatus(f)');
`;

/** Runs an ES module script on `node` and returns what it printed, parsed. */
function evaluate(node: string, script: string, nodeFlags: readonly string[] = []): unknown {
  return JSON.parse(execFileSync(node, [...nodeFlags, '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 }));
}

for (const runtime of NODE_RUNTIMES) {
  test(`the HA agent's interpret-only policy keeps hot code in the interpreter: ${runtime.label}`, async (t) => {
    // %GetOptimizationStatus bits (V8's OptimizationStatus): 1 << 4 optimized, 1 << 7 interpreted.
    const status = evaluate(await runtime.binary(), `
      const { interpretOnly } = await import(${JSON.stringify(dist('runtime/heap.js'))});
      interpretOnly();
      ${HOT_FUNCTION}
      const numbers = Array.from({ length: 1000 }, (_, i) => i);
      for (let i = 0; i < 20000; i++) hot(numbers);
      const bits = status(hot);
      console.log(JSON.stringify({ optimized: (bits & 16) !== 0, interpreted: (bits & 128) !== 0 }));
    `, ['--allow-natives-syntax']);
    t.deepEqual(status, { optimized: false, interpreted: true });
  });

  test(`the exporter's heap policy optimizes hot code with TurboFan, never Maglev: ${runtime.label}`, async (t) => {
    // %GetOptimizationStatus bits: 1 << 5 Maglev code, 1 << 6 TurboFan code; looked at every 64 calls.
    const seen = evaluate(await runtime.binary(), `
      const { configureHeap } = await import(${JSON.stringify(dist('exporter/heap.js'))});
      configureHeap();
      ${HOT_FUNCTION}
      const numbers = Array.from({ length: 100 }, (_, i) => i);
      let maglev = false;
      let turbofan = false;
      for (let i = 0; i < 200000; i++) {
        hot(numbers);
        if (i % 64 === 0) {
          maglev ||= (status(hot) & 32) !== 0;
          turbofan ||= (status(hot) & 64) !== 0;
        }
      }
      console.log(JSON.stringify({ maglev, turbofan }));
    `, ['--allow-natives-syntax']);
    t.deepEqual(seen, { maglev: false, turbofan: true });
  });

  test(`the roles' HTTP servers and clients load no undici: ${runtime.label}`, async (t) => {
    // An ES module import of node:http reads its WebSocket getters, which load undici with crypto, tls, http2
    // and zlib (runtime/node-http.ts). Every module that serves or calls HTTP, and every role's command.
    const loaded = evaluate(await runtime.binary(), `
      for (const file of ${JSON.stringify(['runtime/http.js', 'exporter/server.js', 'events/kube-client.js'].map(dist))}) await import(file);
      const { loadCommands } = await import(${JSON.stringify(dist('cli/commands.js'))});
      await loadCommands();
      console.log(JSON.stringify(process.moduleLoadList.filter((m) => /undici|http2/.test(m))));
    `);
    t.deepEqual(loaded, []);
  });
}
