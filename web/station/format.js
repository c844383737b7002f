// Numbers, times and codes inside sentences. Each value is wrapped in a Unicode isolate
// (FSI or LRI … PDI) so that in a right-to-left Uyghur sentence "850 kbit/s" or "0:05 / 0:16"
// stays one left-to-right piece instead of being reordered with the words around it.
import { formatClock } from '/ui/shared/i18n.js';

export const iso = (value) => `\u2068${value}\u2069`;

// Left to right whatever the sentence: times and speeds have no letter to tell direction by.
export const ltr = (value) => `\u2066${value}\u2069`;

export const clock = (ms) => ltr(formatClock(ms));

export function speed(kbps) {
  return ltr(kbps < 1000 ? `${kbps} kbit/s` : `${(kbps / 1000).toFixed(1)} Mbit/s`);
}
