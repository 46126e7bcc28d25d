// A parser for the small subset of Python literals a .npy header uses: dicts, strings (either
// quote), ints (Python 2's `3L` too), True/False/None, tuples and lists. No eval: a header is data
// from a file, and whatever else it holds is rejected with a message saying where.

export type PyValue = string | number | boolean | null | PyValue[] | PyDict;
export interface PyDict {
  [key: string]: PyValue;
}

/** Thrown with a message that names the offending position; callers wrap it in their own error. */
export class PyLiteralSyntaxError extends Error {}

/**
 * Containers nest at most this deep. A .npy header needs 2 (a dict holding a shape tuple), a
 * structured dtype a few more; the parser recurses per level, so without a bound a header of
 * 20,000 '(' overflows the stack (found by the fuzzer, test/fuzz).
 */
export const MAX_PY_LITERAL_DEPTH = 64;

export function parsePyLiteral(text: string): PyValue {
  const p = new Parser(text);
  const v = p.value();
  p.skipSpace();
  if (p.pos < text.length) p.fail('unexpected text after the value');
  return v;
}

class Parser {
  pos = 0;
  private depth = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    const near = JSON.stringify(this.text.slice(this.pos, this.pos + 20));
    throw new PyLiteralSyntaxError(`${what} at offset ${this.pos} (near ${near})`);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  value(): PyValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === undefined) this.fail('unexpected end of text');
    if (c === '{' || c === '(' || c === '[') {
      if (this.depth >= MAX_PY_LITERAL_DEPTH) this.fail(`containers nested deeper than ${MAX_PY_LITERAL_DEPTH} levels`);
      this.depth++;
      const v = c === '{' ? this.dict() : c === '(' ? this.paren() : (this.pos++, this.sequence(']'));
      this.depth--;
      return v;
    }
    if (c === "'" || c === '"') return this.string();
    if (c === '-' || c === '+' || (c >= '0' && c <= '9')) return this.int();
    const word = /^[A-Za-z_]\w*/.exec(this.text.slice(this.pos))?.[0];
    if (word === 'True' || word === 'False' || word === 'None') {
      this.pos += word.length;
      return word === 'None' ? null : word === 'True';
    }
    this.fail('expected a dict, tuple, list, string, int, True, False or None');
  }

  dict(): PyDict {
    this.pos++; // {
    const out: PyDict = Object.create(null) as PyDict;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return out;
      }
      const keyStart = this.pos;
      const key = this.value();
      if (typeof key !== 'string') {
        this.pos = keyStart;
        this.fail('dict keys must be strings');
      }
      this.skipSpace();
      if (this.text[this.pos] !== ':') this.fail("expected ':' after a dict key");
      this.pos++;
      out[key] = this.value();
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') this.pos++;
      else if (c !== '}') this.fail("expected ',' or '}' in a dict");
    }
  }

  /** `()` is an empty tuple, `(x,)` a tuple, `(x)` just x — as in Python. */
  paren(): PyValue {
    this.pos++; // (
    this.skipSpace();
    if (this.text[this.pos] === ')') {
      this.pos++;
      return [];
    }
    const first = this.value();
    this.skipSpace();
    if (this.text[this.pos] === ')') {
      this.pos++;
      return first;
    }
    if (this.text[this.pos] !== ',') this.fail("expected ',' or ')' in a tuple");
    this.pos++;
    return [first, ...this.sequence(')')];
  }

  /** Items up to `close` (the opening bracket already consumed), a trailing comma allowed. */
  sequence(close: ')' | ']'): PyValue[] {
    const out: PyValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        return out;
      }
      out.push(this.value());
      this.skipSpace();
      const c = this.text[this.pos];
      if (c === ',') this.pos++;
      else if (c !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  string(): string {
    const quote = this.text[this.pos];
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined || c === '\n') this.fail('unterminated string');
      this.pos++;
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text[this.pos];
      if (e === undefined) this.fail('unterminated string');
      this.pos++;
      const simple: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r', '0': '\0' };
      if (e in simple) out += simple[e];
      else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(this.text.slice(this.pos, this.pos + 2))) {
        out += String.fromCharCode(parseInt(this.text.slice(this.pos, this.pos + 2), 16));
        this.pos += 2;
      } else out += '\\' + e; // Python keeps unknown escapes as written
    }
  }

  int(): number {
    const m = /^[+-]?\d+(?![\d.eEjJxXoObB])/.exec(this.text.slice(this.pos));
    if (!m) this.fail('expected an integer');
    this.pos += m[0].length;
    if (this.text[this.pos] === 'L' || this.text[this.pos] === 'l') this.pos++; // Python 2 long
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n)) {
      this.pos -= m[0].length;
      this.fail('integer too large');
    }
    return n;
  }
}
