// A text lesson (Markdown or plain text) shown as text, never as HTML: blocks separated by a
// blank line become paragraphs, and a Markdown heading line ("# …") a heading. Whatever the
// file holds, including tags, reaches the page only through textContent.
import { el } from '../shared/api.js';

export function renderText(into, text) {
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n{2,}/).map((b) => b.trim()).filter(Boolean);
  into.replaceChildren(...blocks.map((block) => {
    const heading = /^#{1,6}\s+(.*)$/s.exec(block);
    return heading ? el('h3', { text: heading[1] }) : el('p', { text: block });
  }));
}
