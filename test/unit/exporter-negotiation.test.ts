import test from 'ava';
import { negotiate, OPENMETRICS_TEXT, PROMETHEUS_TEXT } from '../../exporter/exposition.js';

test('Prometheus 2.x Accept header selects OpenMetrics 1.0.0', (t) => {
  const prometheus = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
  t.is(negotiate(prometheus), OPENMETRICS_TEXT);
});

test('text format when asked for, when nothing is asked, and for browsers and curl', (t) => {
  t.is(negotiate(undefined), PROMETHEUS_TEXT);
  t.is(negotiate(''), PROMETHEUS_TEXT);
  t.is(negotiate('*/*'), PROMETHEUS_TEXT);
  t.is(negotiate('text/plain;version=0.0.4'), PROMETHEUS_TEXT);
  t.is(negotiate('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), PROMETHEUS_TEXT);
});

test('q-values decide; q=0 refuses; versions we do not produce are skipped', (t) => {
  t.is(negotiate('text/plain;q=0.9, application/openmetrics-text;q=0.5'), PROMETHEUS_TEXT);
  t.is(negotiate('application/openmetrics-text; version=1.0.0; q=1, text/plain; q=0.2'), OPENMETRICS_TEXT);
  t.is(negotiate('application/openmetrics-text;q=0, text/plain'), PROMETHEUS_TEXT);
  t.is(negotiate('application/openmetrics-text;version=0.0.1'), PROMETHEUS_TEXT);
  t.is(negotiate('garbage;;;=,'), PROMETHEUS_TEXT);
});
