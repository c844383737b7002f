// A text lesson (Markdown or plain text) shown as text, never as HTML: blocks separated by a
// blank line become paragraphs, a Markdown heading line ("# …") a heading, and a block that is
// one Markdown image of this server's media ("![caption](/media/…)") a lazily loaded picture, so
// on a weak link the words are readable before any picture arrives. Whatever the file holds,
// including tags, reaches the page only through textContent.
import { el } from '../shared/api.js';

const IMAGE = /^!\[([^\]]*)\]\((\/media\/[0-9a-f]{64}(?:\/[\w./-]+)?)\)$/;

export function renderText(into, text) {
  const blocks = text.replace(/\r\n?/g, '\n').split(/\n{2,}/).map((b) => b.trim()).filter(Boolean);
  into.replaceChildren(...blocks.map((block) => {
    const heading = /^#{1,6}\s+(.*)$/s.exec(block);
    if (heading) return el('h3', { text: heading[1] });
    const image = IMAGE.exec(block);
    if (image) {
      return el('figure', {},
        el('img', { src: image[2], alt: image[1], loading: 'lazy', decoding: 'async' }),
        image[1] ? el('figcaption', { class: 'muted small', text: image[1] }) : '');
    }
    return el('p', { text: block });
  }));
}
