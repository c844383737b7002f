//! The published catalogue in memory, for reads: filters, substring search, pages in a stable
//! order, lesson lookup, and the order of changes stations sync by. Rebuilt whole after each
//! change, so a reader always sees one consistent snapshot.

use crate::domain::catalog::{Audience, Course, CourseState, Lesson, Program, Theme};
use crate::domain::lang::Lang;
use crate::domain::search::{TextIndex, FIELD_SEPARATOR};
use crate::repo::{CourseEntry, Repositories, StoreError};
use std::collections::{BTreeSet, HashMap};

pub struct View {
    seq: u64,
    /// Published and retired courses, in id order.
    courses: Vec<Listed>,
    lessons: HashMap<String, (usize, usize)>,
    text: TextIndex,
    /// Indices into `courses`, by the sequence number of their last change.
    by_change: Vec<usize>,
}

struct Listed {
    course: Course,
    changed_seq: u64,
    languages: BTreeSet<Lang>,
}

/// Which courses a list asks for, and which page.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub theme: Option<Theme>,
    pub audience: Option<Audience>,
    pub program: Option<Program>,
    /// Only courses with a variant in this language.
    pub lang: Option<Lang>,
    /// A substring of a title or description, in any language.
    pub text: Option<String>,
    /// The id of the last course of the previous page.
    pub after: Option<String>,
    pub limit: usize,
}

pub struct Listing<'a> {
    pub courses: Vec<&'a Course>,
    /// Whether another page follows.
    pub more: bool,
}

/// Everything a search looks through: titles and descriptions in every language, and the
/// titles of the lessons.
fn searchable(course: &Course) -> String {
    let lesson_titles = course.lessons.iter().flat_map(|l| l.title.values());
    let texts: Vec<&str> = course
        .title
        .values()
        .chain(course.description.values())
        .chain(lesson_titles)
        .map(String::as_str)
        .collect();
    texts.join(&FIELD_SEPARATOR.to_string())
}

impl View {
    pub fn load(store: &dyn Repositories) -> Result<View, StoreError> {
        // Read the sequence number first: a change written meanwhile is then seen again later,
        // never skipped.
        let seq = store.catalog_seq()?;
        Ok(View::new(store.course_entries()?, seq))
    }

    pub fn new(entries: Vec<CourseEntry>, seq: u64) -> View {
        let mut courses: Vec<Listed> = entries
            .into_iter()
            .filter_map(|entry| {
                let course = entry.published?;
                Some(Listed {
                    languages: course.languages(),
                    course,
                    changed_seq: entry.changed_seq,
                })
            })
            .collect();
        courses.sort_by(|a, b| a.course.id.cmp(&b.course.id));
        let mut lessons = HashMap::new();
        for (c, listed) in courses.iter().enumerate() {
            for (l, lesson) in listed.course.lessons.iter().enumerate() {
                lessons.insert(lesson.id.clone(), (c, l));
            }
        }
        let text = TextIndex::new(courses.iter().map(|l| searchable(&l.course)));
        let mut by_change: Vec<usize> = (0..courses.len()).collect();
        by_change.sort_by_key(|i| courses[*i].changed_seq);
        View {
            seq,
            courses,
            lessons,
            text,
            by_change,
        }
    }

    /// How many courses are published (not retired).
    pub fn published(&self) -> usize {
        self.courses
            .iter()
            .filter(|l| l.course.state == CourseState::Published)
            .count()
    }

    /// The last change this view includes.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// A published or retired course.
    pub fn course(&self, id: &str) -> Option<&Course> {
        let at = self
            .courses
            .binary_search_by(|l| l.course.id.as_str().cmp(id))
            .ok()?;
        Some(&self.courses[at].course)
    }

    /// A lesson of a published or retired course, with its course.
    pub fn lesson(&self, id: &str) -> Option<(&Course, &Lesson)> {
        let (c, l) = *self.lessons.get(id)?;
        let course = &self.courses[c].course;
        Some((course, &course.lessons[l]))
    }

    /// One page of published courses matching `query`, in id order.
    pub fn list(&self, query: &Query) -> Listing<'_> {
        let start = query.after.as_deref().map_or(0, |after| {
            self.courses
                .partition_point(|l| l.course.id.as_str() <= after)
        });
        let found = query.text.as_deref().and_then(|q| self.text.candidates(q));
        let candidates: Box<dyn Iterator<Item = usize>> = match &found {
            Some((docs, _)) => Box::new(
                docs.iter()
                    .map(|d| *d as usize)
                    .filter(move |d| *d >= start),
            ),
            None => Box::new(start..self.courses.len()),
        };
        // Cheap filters first: confirming a text match reads the whole course's text.
        let mut matching = candidates
            .filter(|i| matches(&self.courses[*i], query))
            .filter(|i| match &found {
                Some((_, normalized)) => self.text.confirms(*i as u32, normalized),
                None => true,
            })
            .map(|i| &self.courses[i].course);
        let courses: Vec<&Course> = matching.by_ref().take(query.limit).collect();
        let more = matching.next().is_some();
        Listing { courses, more }
    }

    /// Courses whose last change came after `since`, oldest change first, with its number.
    pub fn changes_after(&self, since: u64) -> impl Iterator<Item = (&Course, u64)> {
        let start = self
            .by_change
            .partition_point(|i| self.courses[*i].changed_seq <= since);
        self.by_change[start..]
            .iter()
            .map(|i| (&self.courses[*i].course, self.courses[*i].changed_seq))
    }
}

fn matches(listed: &Listed, query: &Query) -> bool {
    let course = &listed.course;
    course.state == CourseState::Published
        && query.theme.is_none_or(|t| course.themes.contains(&t))
        && query.audience.is_none_or(|a| course.audiences.contains(&a))
        && query.program.is_none_or(|p| course.programs.contains(&p))
        && query
            .lang
            .as_ref()
            .is_none_or(|l| listed.languages.contains(l))
}
