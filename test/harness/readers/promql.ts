// Reads the series selectors out of PromQL expressions (enough of the grammar for our rules and
// dashboard): metric names with their label matchers, and the labels named in by/without/on/ignoring/
// group_left/group_right. Grafana variables are replaced by values Prometheus accepts.

export interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

export interface Selector {
  readonly metric: string;
  readonly matchers: readonly Matcher[];
}

export interface ExpressionParts {
  readonly selectors: readonly Selector[];
  readonly groupingLabels: readonly string[];
}

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);
/** Aggregation operators: their `by (…)`/`without (…)` may come before the parenthesis. */
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/** Grafana's variables as Prometheus would see them after substitution. */
export function substituteGrafanaVariables(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m').replace(/\$\{?(\w+)\}?/g, '.*');
}

export function readExpression(expr: string): ExpressionParts {
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  let i = 0;
  const skipBlanks = () => {
    while (i < expr.length && /\s/.test(expr[i]!)) i++;
  };
  const readString = (): string => {
    const quote = expr[i]!;
    let out = '';
    for (i++; i < expr.length && expr[i] !== quote; i++) out += expr[i] === '\\' && quote !== '`' ? expr[++i]! : expr[i]!;
    if (expr[i] !== quote) throw new Error(`unterminated string in ${expr}`);
    i++;
    return out;
  };
  const readMatchers = (): Matcher[] => {
    const matchers: Matcher[] = [];
    i++; // {
    for (;;) {
      skipBlanks();
      if (expr[i] === '}') break;
      const label = /^[A-Za-z_]\w*/.exec(expr.slice(i))?.[0];
      if (!label) throw new Error(`bad matcher at ${i} in ${expr}`);
      i += label.length;
      skipBlanks();
      const op = /^(=~|!~|!=|=)/.exec(expr.slice(i))![0] as Matcher['op'];
      i += op.length;
      skipBlanks();
      matchers.push({ label, op, value: readString() });
      skipBlanks();
      if (expr[i] === ',') i++;
    }
    i++; // }
    return matchers;
  };
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      readString();
    } else if (c === '[') {
      i = expr.indexOf(']', i) + 1;
    } else if (c === '{') {
      selectors.push({ metric: '', matchers: readMatchers() });
    } else if (/[A-Za-z_:]/.test(c)) {
      const name = /^[A-Za-z_:][\w:]*/.exec(expr.slice(i))![0];
      i += name.length;
      skipBlanks();
      if (GROUPING.has(name) && expr[i] === '(') {
        const close = expr.indexOf(')', i);
        groupingLabels.push(...expr.slice(i + 1, close).split(',').map((l) => l.trim()).filter(Boolean));
        i = close + 1;
      } else if (expr[i] === '(' || KEYWORDS.has(name.toLowerCase()) || AGGREGATIONS.has(name)) {
        // a function or aggregation, or an operator keyword
      } else {
        selectors.push({ metric: name, matchers: expr[i] === '{' ? readMatchers() : [] });
      }
    } else if (/[0-9.]/.test(c)) {
      i += /^[0-9.eE+-]*[0-9a-z]*/.exec(expr.slice(i))![0].length || 1;
    } else i++;
  }
  return { selectors, groupingLabels };
}

/** The values an equality or simple alternation matcher can take (`a|b|c`); undefined for real regexes. */
export function matcherValues(m: Matcher): string[] | undefined {
  if (m.op === '=' || m.op === '!=') return [m.value];
  const alternatives = m.value.split('|');
  return alternatives.every((a) => /^[\w/.-]+$/.test(a) && !a.includes('.*')) ? alternatives : undefined;
}
