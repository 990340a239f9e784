// The alert rules and the dashboard's queries through the real promtool: syntax and semantics
// (`check rules`), and the alerts firing on the series they are about (`test rules`).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { dashboardExpressions, readDashboard, RULES_FILE, RULES_TEST_FILE } from '../harness/checks/observability-checks.js';
import { substituteGrafanaVariables } from '../harness/readers/promql.js';
import { ensurePackages } from '../env/packages.js';

function promtool(...args: string[]) {
  return spawnSync('promtool', args, { encoding: 'utf8', cwd: path.dirname(RULES_FILE) });
}

function tmpFile(name: string, text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'lt-promtool-')), name);
  writeFileSync(file, text);
  return file;
}

test.before(() => ensurePackages(['prometheus'])); // promtool

test('promtool check rules accepts the alert rules', (t) => {
  const r = promtool('check', 'rules', RULES_FILE);
  t.is(r.status, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /SUCCESS: 12 rules found/);
});

test('promtool test rules: each alert fires on its series and not otherwise', (t) => {
  const r = promtool('test', 'rules', RULES_TEST_FILE);
  t.is(r.status, 0, r.stdout + r.stderr);
  t.regex(r.stdout, /SUCCESS/);
});

test('promtool accepts every dashboard query (as recording rules, Grafana variables substituted)', (t) => {
  const exprs = dashboardExpressions(readDashboard());
  const rules = { groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `dashboard:query_${i}`, expr: substituteGrafanaVariables(e.expr) })) }] };
  const r = promtool('check', 'rules', tmpFile('dashboard.rules.yml', YAML.stringify(rules)));
  t.is(r.status, 0, r.stdout + r.stderr);
  t.regex(r.stdout, new RegExp(`SUCCESS: ${exprs.length} rules found`));
});

// The checks can fail.
test('promtool rejects a broken rule', (t) => {
  const broken = readFileSync(RULES_FILE, 'utf8').replace('expr: libvirt_up == 0', 'expr: libvirt_up == (0');
  const r = promtool('check', 'rules', tmpFile('broken.rules.yml', broken));
  t.not(r.status, 0);
  t.regex(r.stdout + r.stderr, /LibvirtDown|parse error|unclosed/i);
});

test('promtool test rules fails when an alert does not fire as expected', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lt-promtool-'));
  writeFileSync(path.join(dir, 'libvirt-telemetry.rules.yml'), readFileSync(RULES_FILE, 'utf8').replace('expr: libvirt_up == 0', 'expr: libvirt_up == 2'));
  writeFileSync(path.join(dir, 'rules.test.yml'), readFileSync(RULES_TEST_FILE, 'utf8'));
  const r = spawnSync('promtool', ['test', 'rules', 'rules.test.yml'], { encoding: 'utf8', cwd: dir });
  t.not(r.status, 0);
  t.regex(r.stdout + r.stderr, /LibvirtDown/);
});
