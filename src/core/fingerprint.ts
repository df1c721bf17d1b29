import type { Labels } from "./types.js";

/**
 * Prometheus' label-set fingerprint: FNV-1a 64 over sorted `name 0xff value 0xff`, as 16 hex
 * digits. Alertmanager uses the same value as an alert's fingerprint, so keys match across tools.
 * The 64-bit state is two 32-bit halves (module scope, no allocation) to stay fast without BigInt.
 */
let hi = 0;
let lo = 0;

export function fingerprint(labels: Labels): string {
  hi = 0xcbf29ce4;
  lo = 0x84222325;
  const names = Object.keys(labels).sort();
  for (const name of names) {
    addString(name);
    addByte(0xff);
    addString(labels[name] as string);
    addByte(0xff);
  }
  return hex8(hi) + hex8(lo);
}

const encoder = new TextEncoder();

function addString(s: string): void {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      for (const b of encoder.encode(s)) addByte(b);
      return;
    }
  }
  for (let i = 0; i < s.length; i++) addByte(s.charCodeAt(i));
}

/** h = (h ^ byte) * 0x100000001b3 mod 2^64, with h = hi·2^32 + lo. */
function addByte(byte: number): void {
  const x = (lo ^ byte) >>> 0;
  const low = x * 0x1b3; // < 2^41, exact in a double
  lo = low >>> 0;
  const carry = (low - lo) / 0x100000000;
  // The 2^40 term of the prime shifts x left by 8 into the high word.
  hi = (hi * 0x1b3 + carry + x * 0x100) >>> 0;
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}
