// Numbers, times and codes inside sentences. Each value is wrapped in Unicode isolates
// (FSI … PDI) so that in a right-to-left Uyghur sentence "850 kbit/s" or "0:05 / 0:16" stays
// one left-to-right piece instead of being reordered with the words around it.
import { formatClock } from '/ui/shared/i18n.js';

export const iso = (value) => `\u2068${value}\u2069`;

export const clock = (ms) => iso(formatClock(ms));

export function speed(kbps) {
  return iso(kbps < 1000 ? `${kbps} kbit/s` : `${(kbps / 1000).toFixed(1)} Mbit/s`);
}
