// The memory policies that depend on the Node.js release, checked on this machine's Node.js and on the one
// the image runs (imageNodeBinary: the same release as the image's base). Each was missing or silently lost
// on the image's Node.js 24 while every figure taken on this machine's Node.js 20 looked fine.
import test from 'ava';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { INTERPRET_ONLY_START_FLAGS } from '../../runtime/heap.js';
import { waitFor } from '../env/proc.js';
import { CLI } from '../harness/repo.js';
import { NODE_RUNTIMES, NODE_VERSION } from '../harness/roles/oci-image.js';

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

  test(`the HA agent runs interpret-only from start-up where Node.js can restart in place: ${runtime.label}`, async (t) => {
    const node = await runtime.binary();
    const canRestart = execFileSync(node, ['-p', 'typeof process.execve'], { encoding: 'utf8' }).trim() === 'function';
    // The image's Node.js must be able to: its agent is the one deployed.
    if (runtime.version === `v${NODE_VERSION}`) t.true(canRestart, `process.execve on ${runtime.version}`);
    // The libvirt URI from a deprecated variable: its warning must be printed once, not once per start.
    const args = [CLI, 'events', '--dry-run', '--hypervisor', 'node-1', '--web.listen-address', '127.0.0.1:0'];
    const agent = spawn(node, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, LIBVIRT_URI: 'qemu+unix:///system?socket=/nonexistent/libvirt-sock' },
    });
    const stderr: string[] = [];
    createInterface({ input: agent.stderr! }).on('line', (line) => stderr.push(line));
    const exited = new Promise<number | null>((resolve) => agent.on('exit', (code) => resolve(code)));
    try {
      await waitFor('the agent started', 30_000, () => stderr.some((l) => l.includes('msg="events agent started"')), 50);
      const argv = readFileSync(`/proc/${agent.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
      if (canRestart) t.deepEqual(argv.slice(1, 1 + INTERPRET_ONLY_START_FLAGS.length), [...INTERPRET_ONLY_START_FLAGS], argv.join(' '));
      else t.false(INTERPRET_ONLY_START_FLAGS.some((flag) => argv.includes(flag)), argv.join(' '));
      t.deepEqual(argv.slice(-args.length), args, 'the same program and arguments');
      t.is(stderr.filter((l) => l.includes('$LIBVIRT_URI is deprecated')).length, 1, stderr.join('\n'));
      t.is(stderr.filter((l) => l.includes('msg="events agent started"')).length, 1);
    } finally {
      agent.kill('SIGTERM');
    }
    t.is(await exited, 0, stderr.join('\n'));
  });
}
