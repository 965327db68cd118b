// Money as the API gives it: integer minor units and a currency. Amounts
// are BigInt from the JSON parser (api.js) when beyond 2^53, numbers
// otherwise; both are formatted exactly, never through floating point.

const digitsCache = new Map();

// digits is the currency's minor-unit exponent (ISO 4217 through Intl; a
// code Intl does not know is shown in minor units).
export function digits(currency) {
  if (!digitsCache.has(currency)) {
    let d = null;
    try {
      d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    } catch {
      d = null;
    }
    digitsCache.set(currency, d);
  }
  return digitsCache.get(currency);
}

// format gives "1,234.50 EUR" for 123450 minor units of EUR (a no-break
// space before the currency: an amount never wraps).
export function format(minor, currency) {
  let v = BigInt(minor ?? 0);
  const neg = v < 0n;
  if (neg) v = -v;
  const d = digits(currency);
  if (d === null) return (neg ? '-' : '') + group(v.toString()) + '\u00a0minor units\u00a0' + currency;
  const s = v.toString().padStart(d + 1, '0');
  const whole = s.slice(0, s.length - d), frac = s.slice(s.length - d);
  return (neg ? '-' : '') + group(whole) + (d ? '.' + frac : '') + '\u00a0' + currency;
}

function group(s) {
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// parse reads an amount typed in major units ("12.50", "12") into minor
// units as a BigInt, or throws with a message a person can act on.
export function parse(text, currency) {
  const d = digits(currency);
  const t = String(text).trim();
  if (d === null) {
    if (!/^\d+$/.test(t)) throw new Error('Type the amount in minor units of ' + currency + ' (digits only).');
    return BigInt(t);
  }
  const m = /^(\d+)(?:\.(\d*))?$/.exec(t);
  if (!m) throw new Error('Type an amount such as 12' + (d ? '.' + '5'.padEnd(d, '0') : '') + '.');
  const frac = m[2] || '';
  if (frac.length > d) throw new Error(currency + ' has ' + d + ' decimal places.');
  const v = BigInt(m[1]) * 10n ** BigInt(d) + BigInt(frac.padEnd(d, '0') || '0');
  if (v <= 0n) throw new Error('The amount must be above zero.');
  if (v > 9223372036854775807n) throw new Error('The amount is too large.');
  return v;
}
