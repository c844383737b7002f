// The list of every course an editor may work on (drafts included), with where each stands:
// draft only, published (with or without unpublished changes), or retired.
import { el } from '../shared/api.js';

export function stateBadges(ctx, entry) {
  const { t } = ctx;
  const badges = [];
  if (entry.published_state === 'published') {
    badges.push(el('span', { class: 'badge ok', text: t('published_v', { v: entry.published_version }) }));
  } else if (entry.published_state === 'retired') {
    badges.push(el('span', { class: 'badge', text: t('retired_v', { v: entry.published_version }) }));
  }
  if (entry.draft_version && entry.published_version) {
    badges.push(el('span', { class: 'badge warn', text: t('unpublished_changes') }));
  } else if (entry.draft_version) {
    badges.push(el('span', { class: 'badge warn', text: t('draft') }));
  }
  return badges;
}

export function courseList(ctx, root) {
  let entries = [];
  let current = null;

  function draw() {
    if (!entries.length) {
      root.replaceChildren(el('li', { class: 'muted', text: ctx.t('no_courses') }));
      return;
    }
    root.replaceChildren(...entries.map((c) => el('li', {},
      el('a', {
        href: `#course=${encodeURIComponent(c.id)}`,
        'data-course': c.id,
        'aria-current': c.id === current ? 'page' : null,
      },
      el('span', { class: 'course-title', text: ctx.pick(c.title) || c.id }),
      el('span', { class: 'course-meta' },
        el('bdi', { class: 'muted', text: c.id }), ' ',
        el('span', { class: 'muted', text: ctx.t('n_lessons', { n: c.lessons }) }), ' ',
        ...stateBadges(ctx, c))))));
  }

  return {
    async refresh() {
      const answer = await ctx.call('/api/v1/editor/courses');
      entries = answer.courses;
      draw();
    },
    entry(id) { return entries.find((c) => c.id === id); },
    mark(id) { current = id; draw(); },
  };
}
