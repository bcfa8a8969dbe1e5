// Reproducible junk for the bounded fuzz tests of parsers: a failure names its seed, and the same seed
// brings back the same inputs.

/** A small deterministic PRNG (mulberry32): the same seed gives the same sequence on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Characters that sit on the edges of the rules: every ASCII punctuation mark, controls, letters that
// case-fold oddly (ſ, the Kelvin sign), non-ASCII letters, a symbol, astral characters, lone surrogates.
const interesting = [
  ...'abvxyzABVXYZ0123456789',
  ...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~ ',
  '\x00', '\t', '\n', '\x7f', '\u00a0', 'é', 'ſ', '\u212a', 'И', '☺', '\ufffd', '𝔸', '😀', '\ud800', '\udfff',
];

/**
 * `count` strings for fuzzing a parser: about a fifth random characters from the whole BMP and beyond,
 * a fifth random edge characters, and the rest one to four mutations (insert, delete, replace, splice
 * in another valid input) of the given valid inputs.
 */
export function garbageStrings(seed: number, count: number, valid: readonly string[]): string[] {
  const random = seededRandom(seed);
  const below = (n: number): number => Math.floor(random() * n);
  const pick = <T>(list: readonly T[]): T => list[below(list.length)]!;
  const anyCodePoint = (): string => String.fromCodePoint(random() < 0.9 ? below(0x10000) : 0x10000 + below(0x100000));

  const out: string[] = [];
  for (let n = 0; n < count; n++) {
    const kind = random();
    if (kind < 0.2 || valid.length === 0) {
      let s = '';
      for (let i = below(16); i > 0; i--) s += anyCodePoint();
      out.push(s);
    } else if (kind < 0.4) {
      let s = '';
      for (let i = below(16); i > 0; i--) s += pick(interesting);
      out.push(s);
    } else {
      // Split by UTF-16 unit, not code point, so mutations can also cut a surrogate pair in half.
      const units = pick(valid).split('');
      for (let edits = 1 + below(4); edits > 0; edits--) {
        const at = below(units.length + 1);
        const op = random();
        if (op < 0.35) units.splice(at, 0, pick(interesting));
        else if (op < 0.6) units.splice(at, 1);
        else if (op < 0.85) units[at] = pick(interesting);
        else units.splice(at, 0, ...pick(valid).split(''));
      }
      out.push(units.join(''));
    }
  }
  return out;
}
