import type { Labels } from "./types.js";

/**
 * Prometheus' label-set fingerprint: FNV-1a 64 over sorted `name 0xff value 0xff`, as 16 hex
 * digits. Alertmanager uses the same value as an alert's fingerprint, so keys match across tools.
 * The 64-bit state is two 32-bit halves in locals (no BigInt, no allocation): this runs for
 * every alert received, re-sends included.
 */
export function fingerprint(labels: Labels): string {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  const names = Object.keys(labels).sort();
  for (let n = 0; n < names.length; n++) {
    const name = names[n] as string;
    for (let part = 0; part < 2; part++) {
      const s = part === 0 ? name : (labels[name] as string);
      const bytes = isAscii(s) ? null : encoder.encode(s);
      const len = bytes === null ? s.length : bytes.length;
      // Each string is followed by the 0xff separator (i === len).
      for (let i = 0; i <= len; i++) {
        const byte = i === len ? 0xff : bytes === null ? s.charCodeAt(i) : (bytes[i] as number);
        // h = (h ^ byte) * 0x100000001b3 mod 2^64, with h = hi·2^32 + lo.
        const x = (lo ^ byte) >>> 0;
        const low = x * 0x1b3; // < 2^41, exact in a double
        lo = low >>> 0;
        // The 2^40 term of the prime shifts x left by 8 into the high word.
        hi = (hi * 0x1b3 + (low - lo) / 0x100000000 + x * 0x100) >>> 0;
      }
    }
  }
  return hex8(hi) + hex8(lo);
}

const encoder = new TextEncoder();

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex8(n: number): string {
  return (
    (HEX[n >>> 24] as string) +
    (HEX[(n >>> 16) & 0xff] as string) +
    (HEX[(n >>> 8) & 0xff] as string) +
    (HEX[n & 0xff] as string)
  );
}
